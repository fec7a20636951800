#!/usr/bin/env python3
"""Writes the hand-made seed inputs into fuzz/corpus/<target>/seed-*.

Run from fuzz/: `python3 scripts/seeds.py` (the .xls seeds need `pip install xlwt`; without
it they are skipped). The fuzzer then grows each corpus; scripts/shrink_corpus.sh keeps
only inputs that add coverage.
"""
import io
import os
import struct
import sys
import urllib.parse
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


ROSTER = (
    "唐家坊镇XX村2026年服务对象名单,,,,\n"
    "序号,姓名,身份证号,联系电话,服务日期,事项\n"
    "1,张三,430527199001011234,13800138000,2026-03-05,低保\n"
    "2,李四,,138-0013-8001,2026/3/6,\"走访, 慰问\"\n"
    "3,王五,,+86 139 0013 9000,,\n"
    "4,赵六,,0739-7654321,,\n"
    "5,钱七,,7397654321,,\n"
    "6,孙八,,1.38001E+10,,\n"
    "7,周九,,１３９００１３９００１,,\n"
    "8,吴十,,13800138000,,重复\n"
    "9,郑,,abc,,\n"
    "\n"
    "10,\"多\n行\",,13700137000；13700137001,,\n"
)


def rosters():
    put("roster_csv", "utf8.csv", ROSTER)
    put("roster_csv", "utf8-bom.csv", "\ufeff" + ROSTER)
    put("roster_csv", "crlf.csv", ROSTER.replace("\n", "\r\n"))
    put("roster_csv", "gbk.csv", ROSTER.replace("１３９００１３９００１", "13900139001").encode("gb18030"))
    put("roster_csv", "utf16le.txt", b"\xff\xfe" + ROSTER.replace(",", "\t").encode("utf-16-le"))
    put("roster_csv", "utf16be.txt", b"\xfe\xff" + ROSTER.replace(",", "\t").encode("utf-16-be"))
    put("roster_csv", "semicolon.csv", "名单\n姓名;电话\n张三;13800138000\n")
    put("roster_csv", "unclosed-quote.csv", "姓名,电话\n\"张三,13800138000\n李四,13900139000\n")
    put("roster_csv", "english.csv", "Name,Mobile\nZhang,13800138000\nLi,0086 139 0013 9000\n")


def xlsx_parts():
    """The NUL-separated parts of fuzz/src/xlsx.rs's minimal workbook, read from the source."""
    src = open(os.path.join(HERE, "..", "src", "xlsx.rs"), encoding="utf-8").read()
    parts = []
    rest = src
    while 'r#"' in rest:
        start = rest.index('r#"') + 3
        end = rest.index('"#', start)
        parts.append(rest[start:end])
        rest = rest[end + 2:]
    return parts


def xlsx():
    parts = xlsx_parts()
    put("roster_xlsx", "parts", "\0".join(parts))
    # The same workbook as a real (deflated) upload.
    names = [
        "xl/worksheets/sheet1.xml",
        "xl/sharedStrings.xml",
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/_rels/workbook.xml.rels",
        "_rels/.rels",
        "[Content_Types].xml",
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in zip(names, parts):
            z.writestr(name, xml)
    put("roster_xlsx", "deflated.xlsx", buf.getvalue())
    # A sheet with cells far apart (a dense grid between them would be 17 billion cells).
    far = parts[0].replace('<c r="C3" t="b"><v>1</v></c>', '<c r="C3" t="b"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c>')
    put("roster_xlsx", "far-cells", "\0".join([far] + parts[1:]))
    # Cells without r attributes and rows out of order.
    loose = parts[0].replace(' r="A2"', "").replace(' r="B2"', "").replace('<row r="3">', '<row r="2">')
    put("roster_xlsx", "loose-refs", "\0".join([loose] + parts[1:]))


def xls():
    try:
        import xlwt
    except ImportError:
        print("xlwt not installed: .xls seeds skipped", file=sys.stderr)
        return
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    sheet.write(0, 0, "唐家坊镇XX村2026年服务对象名单")
    for col, head in enumerate(["姓名", "联系电话", "服务日期", "身份证号"]):
        sheet.write(1, col, head)
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    sheet.write(2, 0, "张三")
    sheet.write(2, 1, 13800138000)
    sheet.write(2, 2, 46000, date)
    sheet.write(2, 3, "430527199001011234")
    sheet.write(3, 0, "李四")
    sheet.write(3, 1, "0739-7654321")
    sheet.write(4, 0, "王五")
    sheet.write(4, 1, True)
    sheet.write(5, 1, xlwt.Formula("13900139000+0"))
    buf = io.BytesIO()
    book.save(buf)
    put("roster_xls", "roster.xls", buf.getvalue())
    small = xlwt.Workbook()
    s = small.add_sheet("Sheet1")
    s.write(0, 0, "phone")
    s.write(1, 0, "13800138000")
    buf = io.BytesIO()
    small.save(buf)
    put("roster_xls", "small.xls", buf.getvalue())


def phones():
    for i, raw in enumerate([
        "13800138000", "138-0013-8000", "+86 138 0013 8000", "0086-13800138000",
        "8613800138000", "（0739）7654321", "0739-7654321", "7397654321",
        "１３８００１３８０００", "1.38001E+10", "13800138000/13900139000",
        "13800138000 13900139000", "430527199001011234", "12345678901", "abc", " ",
        "+852 9123 4567", "138 0013 8000 转 123",
    ]):
        put("phone", f"{i:02}", raw)
    for i, f in enumerate([13800138000.0, 7397654321.0, 1.5, -1.0, 1e20, float("nan")]):
        put("phone", f"float-{i}", struct.pack("<d", f))


def answers():
    recipients = {
        "served": "yes",
        "attitude": "满意", "convenience": "比较满意", "fairness": "不太满意",
        "promptness": "不满意", "no_favours": "dont_know",
        "coached": "no", "age_band": "60plus",
        "comment": "<script>alert(1)</script> 13800138000",
    }
    fields = []
    for k, v in recipients.items():
        for one in (v if isinstance(v, list) else [v]):
            fields.append((k, one))
    fields.append(("csrf", "x"))
    put("answers", "recipients", b"\x00" + urllib.parse.urlencode(fields).encode())
    put("answers", "screened-out", b"\x00" + urllib.parse.urlencode(
        [("served", "no"), ("attitude", "满意"), ("coached", "yes")]).encode())
    panel = [("relation", "liaison")] + [
        (q, "好") for q in ("conduct", "openness", "reputation", "petitions")
    ] + [("heard_misconduct", "no"), ("overall", "较好"), ("comment", "")]
    put("answers", "panel", b"\x01" + urllib.parse.urlencode(panel).encode())
    put("answers", "missing", b"\x00served=yes&attitude=%E6%BB%A1%E6%84%8F&attitude=x")
    put("answers", "json", b"\x80" + '{"served":"yes","attitude":"满意","coached":"no","comment":"好"}'.encode())


def results_import():
    put("results_import", "good.csv",
        "case_id,attempt_time,outcome,served,attitude,convenience,fairness,promptness,no_favours,coached,age_band\n"
        "1,2026-11-20 14:30,complete,yes,满意,满意,比较满意,不太满意,dont_know,no,60plus\n"
        "2,2026-11-21 09:00,no_answer,,,,,,,,\n"
        "5,2026-11-21 09:05,refused,,,,,,,,\n")
    put("results_import", "bad.csv",
        "case_id,attempt_time,outcome,attitude,colour\n"
        "99,yesterday,maybe,不存在,red\n"
        "3,2026-11-20 14:30,complete,满意,\n"
        "\"1,2026-11-20 14:30,busy\n")


if __name__ == "__main__":
    rosters()
    xlsx()
    xls()
    phones()
    answers()
    results_import()


def pack(data):
    """The roster_xlsx target's input as the .xlsx it builds (parts split at NUL, stored)."""
    names = [
        "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/styles.xml",
        "xl/_rels/workbook.xml.rels", "_rels/.rels", "[Content_Types].xml",
    ]
    given = data.split(b"\0")
    defaults = [p.encode("utf-8") for p in xlsx_parts()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i, name in enumerate(names):
            z.writestr(name, given[i] if i < len(given) else defaults[i])
    return buf.getvalue()
