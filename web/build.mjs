// Builds the console into dist/: app.js, app.css, index.html. The output is deterministic (no
// timestamps, no absolute paths, sorted inputs) so CI can compare it with the committed bundle.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const limit = 250 * 1024; // the gzipped bundle's budget

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
const result = await build({
  metafile: true,
  entryPoints: { app: "src/main.ts" },
  outdir: "dist",
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  sourcemap: false,
  charset: "utf8",
  logLevel: "warning",
});
copyFileSync("index.html", "dist/index.html");

// The bundled packages' licences (MIT and the like ask for their notice in copies), sorted.
const pkgs = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) pkgs.add(m[1]);
}
let notices = "The web console of trailsql bundles these packages; their licences follow.\n";
for (const name of [...pkgs].sort()) {
  const dir = `node_modules/${name}`;
  const version = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")).version;
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].map((f) => `${dir}/${f}`).find(existsSync);
  if (!file) {
    console.error(`${name} has no LICENSE file: add its licence by hand before bundling it`);
    process.exit(1);
  }
  notices += `\n== ${name} ${version} ==\n\n${readFileSync(file, "utf8").trim()}\n`;
}
writeFileSync("dist/THIRD_PARTY_LICENSES.txt", notices);
let total = 0;
for (const f of ["app.js", "app.css", "index.html"]) {
  const gz = gzipSync(readFileSync(`dist/${f}`), { level: 9 }).length;
  total += gz;
  console.log(`dist/${f}: ${gz} bytes gzipped`);
}
console.log(`total: ${total} bytes gzipped (budget ${limit})`);
if (total > limit) {
  console.error(`the bundle is ${total} bytes gzipped, over the budget of ${limit}: drop a dependency`);
  process.exit(1);
}
