// Static assets after a release build (issue 16), with Node's own zlib:
//
//   node .tools/assets.mjs compress DIR
//       Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) next to every .wasm, .js,
//       .css and .svg under DIR, so the server sends them with the matching
//       Content-Encoding instead of compressing on every request.
//
//   node .tools/assets.mjs size DIR BUDGET_KB
//       Prints each asset's raw, gzip and brotli size, and what a cold first page transfers
//       (the wasm, its JS glue and the CSS, brotli-compressed). Exits 1 above BUDGET_KB.
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
  console.log(`${"asset".padEnd(28)}${"raw KB".padStart(9)}${"gzip KB".padStart(9)}${"br KB".padStart(9)}`);
  for (const r of rows) console.log(`${r.name.padEnd(28)}${kb(r.raw)}${kb(r.gzip)}${kb(r.br)}`);
  // Without code splitting every page loads the same three files.
  const firstPage = rows.filter((r) => /\.(wasm|js|css)$/.test(r.name));
  const total = firstPage.reduce((sum, r) => sum + r.br, 0);
  const verdict = total <= budgetKb * 1000 ? "within" : "OVER";
  console.log(`first page (login, IAP Account list): ${kb(total).trim()} KB brotli, ${verdict} the ${budgetKb} KB budget`);
  return total <= budgetKb * 1000;
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
