// Builds the console into dist/: app.js, app.css, index.html. The output is deterministic (no
// timestamps, no absolute paths, sorted inputs) so CI can compare it with the committed bundle.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const limit = 250 * 1024; // the gzipped bundle's budget

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
await build({
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
