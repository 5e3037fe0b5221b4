// Progressive enhancement only: every page works without this file.
// Tables marked data-client-sort get header buttons that sort their rows in place (small tables;
// long ones are sorted and paged by the server through their header links).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // a gene track's ticks open their variant on click (mouse only: the table links each one for the keyboard)
  for (const tick of document.querySelectorAll("svg.track [data-href]")) {
    tick.addEventListener("click", () => { window.location.href = tick.dataset.href; });
  }
  for (const table of document.querySelectorAll("table[data-client-sort]")) {
    const heads = table.tHead ? [...table.tHead.rows[0].cells] : [];
    heads.forEach((th, col) => {
      const button = document.createElement("button");
      button.type = "button"; button.className = "sort"; button.textContent = th.textContent;
      th.textContent = ""; th.appendChild(button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const key = (row) => {
          const cell = row.cells[col]; const raw = cell.dataset.value ?? cell.textContent.trim();
          const n = Number(raw.replace(/,/g, "")); return Number.isNaN(n) || raw === "" ? raw.toLowerCase() : n;
        };
        const rows = [...body.rows].sort((a, b) => {
          const x = key(a), y = key(b); const c = x < y ? -1 : x > y ? 1 : 0; return ascending ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      });
    });
  }
});
