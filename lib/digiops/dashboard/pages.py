"""The gateway's own pages: sign-in with an access code, "busy, retry", and "not here" — self-contained HTML (inline
style, no script, nothing from another host), in Chinese and English side by side, with no Jupyter chrome.

Example:
    >>> html = sign_in_page(["示例<茶饮>"], problem="wrong")
    >>> "示例&lt;茶饮&gt;" in html and "访问码不正确" in html and "password" not in html.lower()
    True
"""

from __future__ import annotations

from digiops.text import escape_html

STYLE = """
body{margin:0;font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
background:#f3f5f8;color:#1f2933}
main{max-width:420px;margin:12vh auto;background:#fff;border-radius:10px;box-shadow:0 2px 14px rgba(0,0,0,.08);
padding:36px 40px}
h1{font-size:22px;margin:0 0 4px}
.en{color:#52606d;font-size:14px;margin:0 0 24px}
label{display:block;font-size:14px;margin-bottom:8px}
input{width:100%;box-sizing:border-box;font-size:20px;letter-spacing:3px;padding:10px 12px;border:1px solid #9aa5b1;
border-radius:6px;text-transform:uppercase}
button{margin-top:18px;width:100%;padding:11px;font-size:16px;border:0;border-radius:6px;background:#1f5fa8;
color:#fff;cursor:pointer}
.problem{background:#fdecea;color:#8a1c12;border-radius:6px;padding:10px 12px;font-size:14px;margin-bottom:16px}
.fine{color:#7b8794;font-size:12px;margin-top:22px}
"""

TITLE = ("数字化运营看板", "Digital operations dashboard")
PROBLEMS = {
    "wrong": ("访问码不正确，请核对后重试。", "That access code is not right: check it and try again."),
    "ended": ("访问码已过期或已更换，请向顾问索取新的访问码。",
              "The access code has expired or was replaced: ask your consultant for a new one."),
}


def _page(title: str, body: str, status_note: str = "") -> str:
    return ("<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"{status_note}<title>{escape_html(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")


def _heading(client_names: list[str]) -> str:
    name = " · ".join(client_names)
    zh, en = TITLE
    return (f"<h1>{escape_html(name + ' · ' if name else '')}{escape_html(zh)}</h1>"
            f"<p class='en'>{escape_html(en)}</p>")


def sign_in_page(client_names: list[str], problem: str | None = None, next_path: str = "/") -> str:
    """The form asking for the access code; ``client_names`` only when the gateway serves a single client."""
    note = ""
    if problem in PROBLEMS:
        zh, en = PROBLEMS[problem]
        note = f"<div class='problem' role='alert'>{escape_html(zh)}<br>{escape_html(en)}</div>"
    title = " · ".join([*client_names, TITLE[0]])
    body = (f"{_heading(client_names)}{note}"
            "<form method='post' action='/sign-in' autocomplete='off'>"
            "<label for='code'>访问码 / Access code</label>"
            "<input id='code' name='code' required autofocus spellcheck='false' placeholder='XXXX-XXXX-XXXX'>"
            f"<input type='hidden' name='next' value='{escape_html(next_path)}'>"
            "<button type='submit'>进入 / Enter</button></form>"
            "<p class='fine'>访问码由您的顾问提供，仅供贵公司使用。<br>"
            "Your consultant gave you this code; it is for your company only.</p>")
    return _page(title, body)


def busy_page(retry_after_s: int) -> str:
    """What a viewer beyond the cap sees: the page retries by itself."""
    body = (f"{_heading([])}<div class='problem'>看板当前访问人数已满，{retry_after_s} 秒后自动重试。<br>"
            f"The dashboard has as many viewers as it can serve right now; this page retries in "
            f"{retry_after_s} s.</div>")
    return _page(TITLE[0], body, f"<meta http-equiv='refresh' content='{int(retry_after_s)}'>")


def not_here_page() -> str:
    body = (f"{_heading([])}<div class='problem'>此地址不提供内容。<br>There is nothing at this address.</div>"
            "<p><a href='/'>看板 / Dashboard</a></p>")
    return _page(TITLE[0], body)
