// Static assets after a release build (issue 16), with Node's own zlib:
//
//   node .tools/assets.mjs compress DIR
//       Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) next to every .wasm, .js,
//       .css and .svg under DIR, so the server sends them with the matching
//       Content-Encoding instead of compressing on every request.
//
//   node .tools/assets.mjs size DIR BUDGET_KB
//       Prints each asset's raw, gzip and brotli size, and what a cold visit to each page
//       transfers (the main wasm, its JS glue, the split loader, the CSS and the page's own
//       lazy chunks, brotli-compressed). Exits 1 when the login page or the IAP Account
//       list is above BUDGET_KB.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(wasm|js|css|svg)$/;

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return COMPRESSIBLE.test(entry.name) ? [path] : [];
  });
}

function brotli(bytes, path) {
  const mode = path.endsWith(".wasm") ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT;
  return brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_MODE]: mode,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

function compress(dir) {
  for (const path of files(dir)) {
    const bytes = readFileSync(path);
    writeFileSync(`${path}.br`, brotli(bytes, path));
    writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  }
}

const kb = (n) => (n / 1000).toFixed(1).padStart(9);

// The pages a cold visit is budgeted for, by the name of their lazy route (app/src/routes).
const BUDGETED = { login: "LoginRoute", "IAP Account list": "IapAccountsRoute" };

// `iapd.wasm`, or `iapd.<hash>.wasm` once cargo-leptos has hashed the names.
const find = (rows, stem, ext) =>
  rows.find((r) => r.name === `${stem}.${ext}` || new RegExp(`^${stem}\\.[\\w-]{22}\\.${ext}$`).test(r.name));

// The wasm-split manifest names, for each lazy route, the chunks its first visit loads,
// as `__<snake_case route>_view_<hash>`; every page also loads the main wasm, its JS glue,
// the split loader and the stylesheet.
function pages(dir, rows) {
  const main = ["iapd.wasm", "iapd.js", "iapd.css"].map((f) => find(rows, ...f.split(".")));
  const loader = rows.find((r) => /^__wasm_split\..*\.js$/.test(r.name));
  const manifestFile = readdirSync(dir).find((f) => /^__wasm_split_manifest.*\.json$/.test(f));
  if (main.includes(undefined) || !loader || !manifestFile) {
    throw new Error(`${dir} holds no split release build: run make release`);
  }
  const manifest = JSON.parse(readFileSync(join(dir, manifestFile), "utf8"));
  const byStem = new Map(rows.map((r) => [r.name.replace(/\.wasm$/, ""), r]));
  const shell = [...main, loader].reduce((sum, r) => sum + r.br, 0);
  return Object.entries(manifest).map(([key, chunks]) => {
    const route = key.replace(/^__/, "").replace(/_view_\d+$/, "");
    const own = chunks.reduce((sum, stem) => {
      const row = byStem.get(stem);
      if (!row) throw new Error(`the manifest names ${stem}.wasm, which is missing`);
      return sum + row.br;
    }, 0);
    return { route, chunks: chunks.length, own, total: shell + own };
  });
}

const snake = (name) => name.replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase());

function size(dir, budgetKb) {
  const rows = files(dir).map((path) => {
    const bytes = readFileSync(path);
    return {
      name: relative(dir, path),
      raw: statSync(path).size,
      gzip: gzipSync(bytes, { level: 9 }).length,
      br: brotli(bytes, path).length,
    };
  });
  const sum = (pick) => rows.reduce((s, r) => s + pick(r), 0);
  const chunks = rows.filter((r) => /^(chunk_|split_)/.test(r.name));
  console.log(`${"asset".padEnd(34)}${"raw KB".padStart(9)}${"gzip KB".padStart(9)}${"br KB".padStart(9)}`);
  for (const r of rows.filter((r) => !chunks.includes(r))) {
    console.log(`${r.name.padEnd(34)}${kb(r.raw)}${kb(r.gzip)}${kb(r.br)}`);
  }
  console.log(`${`${chunks.length} lazy chunks`.padEnd(34)}${kb(sum((r) => chunks.includes(r) ? r.raw : 0))}` +
    `${kb(chunks.reduce((s, r) => s + r.gzip, 0))}${kb(chunks.reduce((s, r) => s + r.br, 0))}`);
  console.log(`\n${"page (cold visit, brotli)".padEnd(34)}${"chunks".padStart(9)}${"own KB".padStart(9)}${"total KB".padStart(9)}`);
  const all = pages(dir, rows);
  for (const p of all.sort((a, b) => a.total - b.total)) {
    console.log(`${p.route.padEnd(34)}${String(p.chunks).padStart(9)}${kb(p.own)}${kb(p.total)}`);
  }
  let ok = true;
  for (const [label, route] of Object.entries(BUDGETED)) {
    const page = all.find((p) => p.route === snake(route));
    if (!page) throw new Error(`no lazy route ${route} in the manifest`);
    const within = page.total <= budgetKb * 1000;
    ok &&= within;
    console.log(`${label}: ${kb(page.total).trim()} KB brotli, ${within ? "within" : "OVER"} the ${budgetKb} KB budget`);
  }
  return ok;
}

const [command, dir, budget] = process.argv.slice(2);
if (command === "compress" && dir) {
  compress(dir);
} else if (command === "size" && dir && budget) {
  process.exit(size(dir, Number(budget)) ? 0 : 1);
} else {
  console.error("usage: node .tools/assets.mjs compress DIR | size DIR BUDGET_KB");
  process.exit(2);
}
