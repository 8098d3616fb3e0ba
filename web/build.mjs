// Bundle web/src into web/dist (ES module, minified) and copy the static files beside it.
// The emulators' ports come from firebase.json, the functions' region from the deployment,
// App Check's reCAPTCHA Enterprise site key from APP_CHECK_SITE_KEY (empty: none).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(fileURLToPath(import.meta.url));
const root = dirname(web);
const out = join(web, "dist");
const emulators = JSON.parse(readFileSync(join(root, "firebase.json"), "utf8")).emulators;
const region = /REGION = "([^"]+)"/.exec(
  readFileSync(join(root, "functions", "smart_routing_firebase", "platform", "deployment.py"), "utf8"),
)[1];

mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(web, "src", "main.js")],
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outfile: join(out, "app.js"),
  define: {
    __EMULATORS__: JSON.stringify({
      auth: emulators.auth,
      firestore: emulators.firestore,
      functions: emulators.functions,
    }),
    __REGION__: JSON.stringify(region),
    // reCAPTCHA Enterprise's site key for App Check in production (docs/deploy.md).
    __APP_CHECK_SITE_KEY__: JSON.stringify(process.env.APP_CHECK_SITE_KEY || ""),
  },
  metafile: true,
  logLevel: "warning",
});
for (const file of ["index.html", "styles.css"]) copyFileSync(join(web, file), join(out, file));
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs).find((f) => f.endsWith("app.js"))].bytes;
console.log(`web: built ${out} (${Math.round(bytes / 1024)} KB, app.js)`);
