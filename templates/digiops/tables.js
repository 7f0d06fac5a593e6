/* digiops report tables: every long table of a report gets a toolbar (search with a row count, and a download of the
   whole table as CSV) and headers that sort it. Inlined by the archive (archive.table_script) and allowed by the
   page's Content-Security-Policy through its SHA-256, it is the only script a report runs: it fetches nothing,
   writes no markup from the page's text (cells keep their nodes; new text goes in with textContent) and never
   removes a row or a column. */
(() => {
  "use strict";
  const MIN_ROWS = 9;  // up to 8 rows a table is read at a glance: no toolbar
  const MISSING = new Set(["", "–", "—", "-", "nan", "NaN", "None", "NaT", "<NA>", "N/A"]);
  const SCALE = {"": 1, "%": 0.01, "‰": 0.001, "k": 1e3, "K": 1e3, "M": 1e6, "万": 1e4, "亿": 1e8};
  const NUMBER = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+)?(%|‰|k|K|M|万|亿)?$/;
  const PLAIN_NUMBER = /^[+-]?\d[\d,]*(\.\d+)?%?$/;  // a number, however signed, cannot be a spreadsheet formula
  const WORDS = {
    zh: {search: "筛选表格", placeholder: "筛选…", rows: (n, m) => `显示 ${n} / ${m} 行`, download: "下载 CSV",
         downloadHint: "下载整张表（全部行，含未显示的行），UTF-8 CSV", sort: "点击排序",
         truncated: "此表在页面中已被截断（省略号处），下载也只含页面上的行；完整数据见本阶段的输出文件"},
    en: {search: "Filter table", placeholder: "Filter…", rows: (n, m) => `${n} of ${m} rows`, download: "Download CSV",
         downloadHint: "Download the whole table (all rows, also those filtered out) as UTF-8 CSV",
         sort: "Click to sort",
         truncated: "This table is truncated in the page (at the ellipsis), and so is its download; the stage's "
                    + "output files hold all of it"},
  };
  const STYLE = `
    .dg-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; margin: 10px 0 4px;
                font-size: 0.85em; }
    .dg-tools input { font: inherit; padding: 2px 6px; min-width: 14em; border: 1px solid #bbb; border-radius: 3px; }
    .dg-tools button { font: inherit; padding: 2px 10px; border: 1px solid #1f4e79; border-radius: 3px;
                       background: #f5f8fb; color: #1f4e79; cursor: pointer; }
    .dg-tools .dg-count { color: #555; }
    .dg-tools .dg-warn { color: #c62828; flex-basis: 100%; }
    @media screen {
      th.dg-sortable { cursor: pointer; user-select: none; }
      th.dg-sortable::after { content: "\\2195"; color: #aaa; margin-left: 4px; font-weight: normal; }
      th.dg-sortable[aria-sort="ascending"]::after { content: "\\25B2"; color: #1f4e79; }
      th.dg-sortable[aria-sort="descending"]::after { content: "\\25BC"; color: #1f4e79; }
      tr.dg-filtered { display: none; }  /* printed all the same: paper has no search box to explain a gap */
    }`;

  const text = (cell) => cell.textContent.replace(/\s+/g, " ").trim();

  function language() {
    const root = document.documentElement;
    const named = root.dataset.language || (document.body && document.body.dataset.language);
    if (named) return named.toLowerCase().startsWith("zh") ? "zh" : "en";
    if (/^zh\b/i.test(root.lang || "")) return "zh";
    // nbconvert writes lang="en" on every page; the chrome's labels (客户 / Client) are in the report's language,
    // the h1 (the client's name first) may not be
    const label = document.querySelector(".dg-header .dg-meta b") || document.querySelector("h1");
    return label && /[\u3400-\u9fff]/.test(label.textContent) ? "zh" : "en";
  }

  /* A number from a cell as the reports write them: "1,234", "-¥42,577.00", "12.5%", "31.0万", "309.7k"; or one
     leading a cell ("31.0万 / 36.0万 ●"). NaN when there is none. */
  function number(value) {
    for (const candidate of [value, value.split(" ")[0]]) {
      const match = NUMBER.exec(candidate.replace(/[\s,¥$€£]/g, "").replace(/^−/, "-"));
      if (match) return Number(match[1] + match[2] + (match[3] || "")) * SCALE[match[4] || ""];
    }
    return NaN;
  }

  /* The table's rows: header, body (sorted and filtered) and foot. Without a <thead>, the leading rows made only of
     <th> are the header (lift: moved into a <thead> once the table gets its tools, so that print repeats them). */
  function parts(table) {
    const rows = Array.from(table.rows);
    const foot = table.tFoot ? Array.from(table.tFoot.rows) : [];
    const head = table.tHead ? Array.from(table.tHead.rows) : [];
    const lift = !table.tHead;
    if (lift) {
      while (head.length < rows.length - 1 && rows[head.length].cells.length
             && Array.from(rows[head.length].cells).every((c) => c.tagName === "TH")) head.push(rows[head.length]);
    }
    const body = rows.filter((row) => !head.includes(row) && !foot.includes(row));
    return {head, body, lift};
  }

  /* Whether pandas cut rows or columns out of the table (its "..." row or column). */
  function truncated(table) {
    const ellipsis = (cell) => ["...", "…", "⋮", "⋯"].includes(text(cell));
    return Array.from(table.rows).some((row) => {
      const cells = Array.from(row.cells);
      return cells.some(ellipsis) && (row.parentNode === table.tHead
                                      || cells.every((cell) => ellipsis(cell) || (cell.tagName === "TH" && !text(cell))));
    });
  }

  /* Every row as a list of cell texts, a cell spanning rows or columns repeated in each place it covers, so that
     the columns of the CSV line up. */
  function grid(table) {
    const lines = [], carried = [];
    for (const row of table.rows) {
      const line = [];
      let column = 0;
      const carry = () => {
        while (carried[column] && carried[column].left > 0) {
          line[column] = carried[column].text;
          carried[column].left -= 1;
          column += 1;
        }
      };
      for (const cell of row.cells) {
        carry();
        const value = text(cell);
        for (let k = 0; k < Math.max(1, cell.colSpan); k += 1, column += 1) {
          line[column] = value;
          if (cell.rowSpan > 1) carried[column] = {text: value, left: cell.rowSpan - 1};
        }
      }
      for (let c = column; c < carried.length; c += 1) {
        if (carried[c] && carried[c].left > 0 && line[c] === undefined) {
          line[c] = carried[c].text;
          carried[c].left -= 1;
        }
      }
      lines.push(line);
    }
    const width = Math.max(0, ...lines.map((line) => line.length));
    return lines.map((line) => Array.from({length: width}, (_, i) => (line[i] === undefined ? "" : line[i])));
  }

  function csvCell(value) {
    // a cell a spreadsheet would run as a formula is written as text (cells are trimmed: no leading tab or CR)
    const safe = /^[=+\-@]/.test(value) && !PLAIN_NUMBER.test(value) ? "'" + value : value;
    return '"' + safe.replace(/"/g, '""') + '"';
  }

  function download(table, name) {
    const csv = grid(table).map((line) => line.map(csvCell).join(",")).join("\r\n") + "\r\n";
    const url = URL.createObjectURL(new Blob(["\uFEFF" + csv], {type: "text/csv;charset=utf-8"}));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function sortable(table, head, body, collator, words) {
    const spans = Array.from(table.rows).some((row) => Array.from(row.cells).some(
      (cell) => cell.rowSpan !== 1 || cell.colSpan !== 1));
    const parent = body.length ? body[0].parentNode : null;
    if (spans || !head.length || !parent || body.some((row) => row.parentNode !== parent)) return;
    const width = Math.max(...body.map((row) => row.cells.length));
    const handles = [];
    for (let column = 0; column < width; column += 1) {
      // the lowest header cell with text names the column (a Styler's index-name row leaves data columns blank)
      const th = head.map((row) => row.cells[column]).reverse().find((cell) => cell && text(cell));
      if (th) handles.push([th, column]);
    }
    const sort = (th, column) => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      handles.forEach(([other]) => other.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const keys = body.map((row) => (row.cells[column] ? text(row.cells[column]) : ""));
      const numbers = keys.map(number);
      const numeric = keys.every((key, i) => MISSING.has(key) || !Number.isNaN(numbers[i]));
      const order = keys.map((_, i) => i).sort((a, b) => {
        const [gapA, gapB] = [MISSING.has(keys[a]), MISSING.has(keys[b])];
        if (gapA || gapB) return gapA === gapB ? a - b : (gapA ? 1 : -1);  // missing last, either way
        const d = numeric ? numbers[a] - numbers[b] : collator.compare(keys[a], keys[b]);
        return (ascending ? d : -d) || a - b;
      });
      const sorted = order.map((i) => body[i]);
      sorted.forEach((row) => parent.appendChild(row));
      body.splice(0, body.length, ...sorted);
    };
    for (const [th, column] of handles) {
      th.classList.add("dg-sortable");
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      th.title = words.sort;
      th.addEventListener("click", () => sort(th, column));
      th.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sort(th, column);
        }
      });
    }
  }

  function toolbar(table, body, name, words) {
    const bar = document.createElement("div");
    bar.className = "dg-tools";
    const search = document.createElement("input");
    search.type = "search";
    search.placeholder = words.placeholder;
    search.setAttribute("aria-label", words.search);
    const count = document.createElement("span");
    count.className = "dg-count";
    count.setAttribute("aria-live", "polite");
    count.textContent = words.rows(body.length, body.length);
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = words.download;
    button.title = words.downloadHint;
    button.addEventListener("click", () => download(table, name));
    const haystack = new Map(body.map((row) => [row, Array.from(row.cells, text).join("\t").toLowerCase()]));
    search.addEventListener("input", () => {
      const query = search.value.trim().toLowerCase();
      let shown = 0;
      for (const row of body) {
        const hit = !query || haystack.get(row).includes(query);
        row.classList.toggle("dg-filtered", !hit);
        shown += hit ? 1 : 0;
      }
      count.textContent = words.rows(shown, body.length);
    });
    bar.append(search, count, button);
    return bar;
  }

  const lang = language();
  const words = WORDS[lang];
  const collator = new Intl.Collator(lang === "zh" ? "zh-CN" : "en", {numeric: true, sensitivity: "base"});
  const style = document.createElement("style");
  style.textContent = STYLE;
  document.head.appendChild(style);
  const base = (document.title || "table").replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "_").trim() || "table";
  const tables = Array.from(document.querySelectorAll("main table, body > table"))
    .filter((table) => !table.closest("footer, .dg-footer, .dg-tools"));
  tables.forEach((table, index) => {
    try {
      const {head, body, lift} = parts(table);
      const cut = truncated(table);
      if (body.length < MIN_ROWS && !cut) return;
      if (lift && head.length) head.forEach((row) => table.createTHead().appendChild(row));
      const bar = toolbar(table, body, `${base} - ${index + 1}.csv`, words);
      if (cut) {
        const warning = document.createElement("span");
        warning.className = "dg-warn";
        warning.textContent = words.truncated;
        bar.append(warning);
      }
      table.parentNode.insertBefore(bar, table);
      sortable(table, head, body, collator, words);
    } catch (error) {  // one odd table must not leave the others without their tools
      console.warn("digiops tables:", error);
    }
  });
})();
