"use strict";
// Node half of tools/fast_import.py, preloaded into the jsii runtime with `node --require`.
//
// A prebuilt cdktf provider's lib/index.js is a barrel of ~2,100 lines `exports.s3Bucket = require("./s3-bucket");`,
// so loading the assembly compiles every resource class (about 2 s and 400 MB). The jsii kernel only ever reaches a
// class by walking that exports object (closure.s3Bucket.S3Bucket), so each line is turned into a getter that
// requires its module on first access. Lines of any other shape are left as they are; a barrel with none of them
// (another provider layout) loads eagerly, as without this file.
const Module = require("module");
// Module._extensions is CommonJS's long-standing loader table; should a node release drop it, loading stays eager.
const hookable = typeof Module._extensions?.[".js"] === "function";
if (hookable && !globalThis.__cdktfLazyProviderIndex && process.env.BASELINE_EAGER_IMPORT !== "1") {
  globalThis.__cdktfLazyProviderIndex = true;
  const fs = require("fs");

  const BARREL = /[\\/]@cdktf[\\/]provider-[^\\/]+[\\/](?:.+[\\/])?lib[\\/]index\.js$/;
  const EXPORT_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[^"]+)"\);$/gm;
  // Appended, not prepended, so "use strict" stays the first statement and line numbers stay true.
  const HELPER = `
function __lazyExport(name, load) {
  Object.defineProperty(exports, name, {
    enumerable: true, configurable: true,
    get() {
      const value = load();
      Object.defineProperty(exports, name, { value, enumerable: true, writable: true, configurable: true });
      return value;
    },
  });
}
`;

  const compileJs = Module._extensions[".js"];
  Module._extensions[".js"] = function lazyProviderIndex(module, filename) {
    if (!BARREL.test(filename)) return compileJs(module, filename);
    let lazy = 0;
    const source = fs.readFileSync(filename, "utf8").replace(EXPORT_LINE, (_, name, path) => {
      lazy += 1;
      return `__lazyExport(${JSON.stringify(name)}, () => require(${JSON.stringify(path)}));`;
    });
    if (lazy === 0) return compileJs(module, filename);
    module._compile(source + HELPER, filename);
  };
}
