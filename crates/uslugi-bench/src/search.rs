//! The catalogue search on one core: the shipped catalogue grown to `services` cards (each
//! shipped service copied with its own slug and a distinguishing word in the title, so posting
//! lists grow as they would), then everyday queries in a loop on this thread.
//!
//! `cargo run --release -p uslugi-bench -- search [services] [seconds]`

use std::time::{Duration, Instant};

use uslugi_core::services::{catalogue::BUILTIN, catalogue::Catalogue, search::Index};

/// What people type (with a typo or two, and words the synonyms list carries).
const QUERIES: &[&str] = &[
    "справку о несудимости",
    "загран",
    "поменять права",
    "вычет за лечение",
    "прописка",
    "выписка из егрн",
    "материнский капитал",
    "запись к врачу",
    "детский сад",
    "регистрация брака",
    "пособие на ребенка",
    "судимасти",
    "паспорт в 45 лет",
    "инн",
    "выписка лицевого счета",
    "регистрация машины",
    "пенсия",
    "ип открыть",
    "налоговый вычет квартира",
    "охотничий билет",
];

const WORDS: &[&str] = &[
    "Москва",
    "Казань",
    "Пермь",
    "Тула",
    "Омск",
    "Тверь",
    "Курск",
    "Сочи",
    "Уфа",
    "Чита",
    "электронно",
    "срочно",
    "повторно",
    "дубликат",
    "продление",
    "изменение",
    "восстановление",
];

/// The shipped catalogue grown to `n` services.
fn grown(n: usize) -> Catalogue {
    Catalogue::parse(&grown_text(n)).expect("the grown catalogue parses")
}

/// The text of the shipped catalogue grown to `n` services (for `uslugi admin catalogue
/// import`, to measure `/search` over HTTP with it).
pub fn grown_text(n: usize) -> String {
    let head_end = BUILTIN.find("[[service]]").expect("services");
    let head = &BUILTIN[..head_end];
    let blocks: Vec<String> =
        BUILTIN[head_end..]
            .split_inclusive('\n')
            .fold(Vec::<String>::new(), |mut acc, line| {
                if line.starts_with("[[service]]") || acc.is_empty() {
                    acc.push(String::new());
                }
                if let Some(last) = acc.last_mut() {
                    last.push_str(line);
                }
                acc
            });
    let mut text = head.to_owned();
    for i in 0..n {
        let block = blocks[i % blocks.len()].as_str();
        let round = i / blocks.len();
        if round == 0 {
            text.push_str(block);
            continue;
        }
        let word = WORDS[(i * 7 + round) % WORDS.len()];
        let mut out = String::with_capacity(block.len() + 32);
        let mut slug_done = false;
        let mut title_done = false;
        for line in block.split_inclusive('\n') {
            if !slug_done && line.starts_with("slug = \"") {
                let slug = line
                    .trim_end()
                    .trim_start_matches("slug = \"")
                    .trim_end_matches('"');
                out.push_str(&format!("slug = \"{slug}-{round}\"\n"));
                slug_done = true;
            } else if !title_done && line.starts_with("title = \"") {
                let title = line
                    .trim_end()
                    .trim_start_matches("title = \"")
                    .trim_end_matches('"');
                out.push_str(&format!("title = \"{title} ({word} {round})\"\n"));
                title_done = true;
            } else {
                out.push_str(line);
            }
        }
        text.push_str(&out);
    }
    text
}

/// Runs the benchmark and prints a Markdown table row.
pub fn run(services: usize, seconds: u64) {
    let t = Instant::now();
    let catalogue = grown(services);
    let index = Index::build(&catalogue).expect("index");
    let build = t.elapsed();
    // Warm up, and make sure every query finds something.
    for q in QUERIES {
        assert!(!index.search(q, 20).is_empty(), "nothing for {q:?}");
    }
    let mut latencies = Vec::with_capacity(1 << 20);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut i = 0;
    while Instant::now() < deadline {
        let q = QUERIES[i % QUERIES.len()];
        let s = Instant::now();
        let hits = index.search(q, 20);
        latencies.push(s.elapsed());
        std::hint::black_box(hits);
        i += 1;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        let at = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[at].as_secs_f64() * 1e6
    };
    let suggest_started = Instant::now();
    let mut n = 0;
    while suggest_started.elapsed() < Duration::from_secs(1) {
        std::hint::black_box(index.suggest(
            &QUERIES[n % QUERIES.len()][..4.min(QUERIES[n % QUERIES.len()].len())],
            8,
        ));
        n += 1;
    }
    println!(
        "| {} services (index built in {:.0} ms) | {:.0} queries/s on one core | p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs | completions {:.0}/s |",
        catalogue.services.len(),
        build.as_secs_f64() * 1e3,
        i as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        n as f64 / suggest_started.elapsed().as_secs_f64(),
    );
}
