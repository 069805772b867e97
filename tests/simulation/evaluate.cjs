"use strict";
// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (patched, see encryption_context_patch.cjs).
// stdin: [{"name": ..., "simulation": <iam-simulate Simulation>}]; stdout: one result per request with the overall
// decision and the statements (by policy and Sid) that allowed or denied it.
const { runSimulation } = require("@cloud-copilot/iam-simulate");

function sids(statements) {
  return (statements || []).map((s) => {
    const statement = s.statement || {};
    const sid = typeof statement.sid === "function" ? statement.sid() : statement.Sid;
    return `${s.policyId || "resource policy"}:${sid || `#${statement._index ?? "?"}`}`;
  });
}

function decidedBy(analysis) {
  const out = {};
  for (const [name, part] of Object.entries(analysis || {})) {
    if (!part || typeof part !== "object" || !("result" in part)) continue;
    const allow = sids(part.allowStatements);
    const deny = sids(part.denyStatements);
    if (allow.length || deny.length) out[name] = { result: part.result, allow, deny };
  }
  return out;
}

async function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const results = [];
  for (const { name, simulation } of input) {
    try {
      const run = await runSimulation(simulation, {});
      if (run.resultType === "error") {
        results.push({ name, error: JSON.stringify(run.errors) });
        continue;
      }
      const analysis = run.result ? run.result.analysis : undefined;
      results.push({
        name,
        decision: run.overallResult,
        decidedBy: decidedBy(analysis),
        ignoredContextKeys: run.result ? run.result.ignoredContextKeys || [] : [],
      });
    } catch (error) {
      results.push({ name, error: String(error && error.stack ? error.stack : error) });
    }
  }
  const patch = globalThis.__encryptionContextPatch;
  process.stdout.write(JSON.stringify({ results, patched: patch ? [...patch.applied] : [] }));
}

main();
