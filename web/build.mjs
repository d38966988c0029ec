// Builds web/src into web/dist: dist/index.html and dist/assets/* with
// content-hashed names (served with a cache-for-ever header). Deterministic:
// the same sources and lock file give the same bytes. Run: npm run build.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, "src/main.js") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  legalComments: "external",
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  outdir: join(dist, "assets"),
  write: false,
  metafile: true,
  logLevel: "warning",
  charset: "utf8",
});

const hash = (buf) => createHash("sha256").update(buf).digest("hex").slice(0, 10);
const names = {};
const legal = [];
for (const f of result.outputFiles.sort((a, b) => (a.path < b.path ? -1 : 1))) {
  const name = basename(f.path);
  if (name.endsWith(".LEGAL.txt")) {
    legal.push(f.text);
    continue;
  }
  writeFileSync(join(dist, "assets", name), f.contents);
  if (name.endsWith(".js")) names.js = name;
  else if (name.endsWith(".css")) names.css = name;
}

const pkg = (p) => JSON.parse(readFileSync(require.resolve(p + "/package.json"), "utf8"));
const mlPkg = pkg("maplibre-gl");
const mlLicense = readFileSync(join(dirname(require.resolve("maplibre-gl/package.json")), "LICENSE.txt"), "utf8");
const licences =
  "Third-party software in the crimemap web map\n" +
  "=============================================\n\n" +
  `MapLibre GL JS ${mlPkg.version} (https://github.com/maplibre/maplibre-gl-js), LICENSE.txt:\n\n` +
  mlLicense.trimEnd() + "\n\n" +
  "Legal comments collected by esbuild from the bundled sources:\n\n" +
  legal.join("\n").trimEnd() + "\n";
const licName = `THIRD-PARTY-LICENSES-${hash(licences)}.txt`;
writeFileSync(join(dist, "assets", licName), licences);

// The fingerprint of what dist/ was built from: sha256 over "path\0content\0"
// of src/* (sorted by name), package-lock.json and build.mjs. web_test.go
// recomputes it, so a source changed without `npm run build` fails the tests.
const fp = createHash("sha256");
const inputs = [...readdirSync(join(here, "src")).sort().map((n) => "src/" + n), "package-lock.json", "build.mjs"];
for (const rel of inputs) fp.update(rel + "\0").update(readFileSync(join(here, rel))).update("\0");
const sources = fp.digest("hex");

// boot.js: a classic script of its own (see the file), minified.
const boot = await esbuild.build({
  entryPoints: [join(here, "src/boot.js")],
  bundle: false,
  minify: true,
  format: "iife",
  target: ["es2020"],
  write: false,
  logLevel: "warning",
  charset: "utf8",
});
names.boot = `boot-${hash(boot.outputFiles[0].contents)}.js`;
writeFileSync(join(dist, "assets", names.boot), boot.outputFiles[0].contents);

const html = readFileSync(join(here, "src/index.html"), "utf8")
  .replaceAll("%BOOT_JS%", "/assets/" + names.boot)
  .replaceAll("%SOURCES%", sources)
  .replaceAll("%APP_JS%", "/assets/" + names.js)
  .replaceAll("%APP_CSS%", "/assets/" + names.css)
  .replaceAll("%LICENSES%", "/assets/" + licName);
writeFileSync(join(dist, "index.html"), html);

for (const n of [names.boot, names.js, names.css, licName]) console.log("dist/assets/" + n);
console.log("dist/index.html");
