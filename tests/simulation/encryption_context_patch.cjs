"use strict";
// Closes two holes of @cloud-copilot/iam-simulate (0.1.173), preloaded with `node --require`.
//
// KMS's condition key family `kms:EncryptionContext:<context key>` (e.g. kms:EncryptionContext:aws:s3:arn) is a
// variable key whose variable follows a colon. The engine only recognises variable keys whose variable follows a
// slash (aws:RequestTag/<tag>), so it drops every encryption-context value from the request and a condition on one
// always fails as missing. Two functions are rewritten when their module loads:
//   - listHasVariableKeyMatch(): a request key matches a declared key `prefix${Variable}` when it starts with the
//     prefix and adds a variable part;
//   - replaceVariableInContextKey(): such a key keeps its own variable part (not `${EncryptionContextKey}`).
// Keys with a slash behave exactly as before.
//
// Second hole: OIDC provider keys (token.actions.githubusercontent.com:sub, ...) are recognised when normalising
// their case but not when typing them, so a request carrying one fails with "Condition key ... not found".
//   - typeForContextKey(): an OIDC provider key is a String (as IAM documents for :aud and :sub).
// If the engine's source changes shape, loading fails loudly.
const Module = require("module");
const fs = require("fs");

const PATCHES = {
  "simulation_engine/simulationEngine.js": [
    "function listHasVariableKeyMatch(lowerCaseKey, contextVariables) {\n",
    "function listHasVariableKeyMatch(lowerCaseKey, contextVariables) {\n" +
      "    for (const variable of contextVariables) {\n" +
      "        const at = variable.indexOf('${');\n" +
      "        if (at > 0 && variable.lastIndexOf('/', at) === -1 &&\n" +
      "            lowerCaseKey.startsWith(variable.slice(0, at)) && lowerCaseKey.length > at) {\n" +
      "            return true;\n" +
      "        }\n" +
      "    }\n",
  ],
  "context_keys/contextKeys.js": [
    "function replaceVariableInContextKey(specKey, actualKey) {\n",
    "function replaceVariableInContextKey(specKey, actualKey) {\n" +
      "    const at = specKey.indexOf('${');\n" +
      "    if (at > 0 && specKey.lastIndexOf('/', at) === -1) {\n" +
      "        return specKey.slice(0, at) + actualKey.slice(at);\n" +
      "    }\n",
    "async function typeForContextKey(contextKey) {\n",
    "async function typeForContextKey(contextKey) {\n" +
      "    if (isOidcConditionKey(contextKey)) {\n" +
      "        return 'String';\n" +
      "    }\n",
  ],
};

const compile = Module._extensions[".js"];
const applied = new Set();
Module._extensions[".js"] = function patched(module, filename) {
  const normalized = filename.split("\\").join("/");
  const entry = Object.entries(PATCHES).find(
    ([tail]) => normalized.includes("@cloud-copilot/iam-simulate/dist/cjs/") && normalized.endsWith(tail),
  );
  if (!entry) return compile(module, filename);
  const [tail, edits] = entry;
  let source = fs.readFileSync(filename, "utf8");
  for (let i = 0; i < edits.length; i += 2) {
    const [anchor, replacement] = [edits[i], edits[i + 1]];
    if (!source.includes(anchor)) {
      throw new Error(`encryption_context_patch: ${tail} no longer has ${anchor.trim()}; re-check the engine`);
    }
    source = source.replace(anchor, replacement);
  }
  applied.add(tail);
  module._compile(source, filename);
};

module.exports = { applied };
globalThis.__encryptionContextPatch = { applied };
