//! Renders a job summary (GitHub-flavoured Markdown on stdin) to an HTML page styled like
//! GitHub's job summary, for the screenshot in docs/. Used by scripts/render-summary.sh and
//! scripts/render-insights.sh; the optional argument is the job's name in the card's header.

use std::io::{self, Read, Write};

use pulldown_cmark::{Options, Parser, html};

const STYLE: &str = r#"
body { margin: 0; background: #f6f8fa; font-family: -apple-system, BlinkMacSystemFont, "Segoe UI",
  "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; font-size: 14px; color: #1f2328; }
.card { margin: 24px; background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
.card > header { padding: 16px 24px; border-bottom: 1px solid #d1d9e0; font-weight: 600; }
.markdown { padding: 16px 24px 8px; line-height: 1.5; }
h3 { font-size: 1.25em; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 0 0 16px; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; } tr:nth-child(2n) { background: #f6f8fa; }
code { background: rgba(129,139,152,.12); border-radius: 6px; padding: .2em .4em; font-size: 85%;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; border-radius: 6px; padding: 16px; overflow: auto; font-size: 85%;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
details { margin: 0 0 16px; } summary { cursor: pointer; }
ul { padding-left: 2em; margin: 0 0 16px; }
"#;

fn main() -> io::Result<()> {
    let mut markdown = String::new();
    io::stdin().read_to_string(&mut markdown)?;
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut body = String::new();
    html::push_html(&mut body, Parser::new_ext(&markdown, options));
    let job = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "integration-tests".to_owned());
    let job = job.replace('&', "&amp;").replace('<', "&lt;");
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><style>{STYLE}</style></head>\
         <body><div class=\"card\"><header>{job} summary</header>\
         <div class=\"markdown\">{body}</div></div></body></html>\n"
    );
    io::stdout().write_all(page.as_bytes())
}
