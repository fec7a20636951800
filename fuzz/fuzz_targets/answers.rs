//! One submission of the recipients' or the panel's questionnaire: the input is an
//! `application/x-www-form-urlencoded` body as a browser (or anyone) sends it; its first byte
//! picks the form. Also stored answer JSON read back against the form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let forms = minyi_fuzz::forms();
    let form = if pick % 2 == 0 {
        &forms.recipients
    } else {
        &forms.panel
    };
    if pick & 0x80 != 0 {
        minyi_fuzz::check_answers_json(form, &String::from_utf8_lossy(body));
        return;
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    minyi_fuzz::check_answers(form, &fields);
});
