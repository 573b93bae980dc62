// Validate manifest.yml with Forge's own validator (@forge/manifest), offline.
// Usage: node validate.js [path/to/manifest.yml]; prints the result as JSON, exits 1 on any error.
const path = require("path");
const { validate } = require("@forge/manifest");

const manifest = path.resolve(process.argv[2] || path.join(__dirname, "manifest.yml"));
// validate(basic, path): basic=false runs the full validation, as `forge lint` does.
validate(false, manifest).then((result) => {
  const errors = (result.errors || []).map((e) => ({ message: e.message, level: e.level, reference: e.reference }));
  console.log(JSON.stringify({ success: result.success, manifest: result.manifestFilePath, errors }, null, 2));
  process.exit(result.success && errors.every((e) => e.level !== "error") ? 0 : 1);
}, (failure) => {
  console.error(`validation could not run: ${failure && failure.stack ? failure.stack : failure}`);
  process.exit(2);
});
