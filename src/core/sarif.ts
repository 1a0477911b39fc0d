/** The SARIF 2.1.0 envelope Keyward's reports share (detection alerts, secret findings): one run, one driver. */

/** The rules that have results, sorted, with each one's index in the driver's rule list (`ruleIndex`). */
export function usedRules(ruleIds: Iterable<string>): { ids: string[]; index: Map<string, number> } {
  const ids = [...new Set(ruleIds)].sort();
  return { ids, index: new Map(ids.map((id, i) => [id, i])) };
}

/**
 * A SARIF 2.1.0 log with one run of Keyward: `rules` become the driver's rules, `results` the run's results, and
 * `run` adds run properties (`columnKind`, `originalUriBaseIds`).
 */
export function sarifLog(args: {
  version: string;
  rules: unknown[];
  results: unknown[];
  run?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Keyward',
            informationUri: 'https://github.com/keyward/keyward',
            version: args.version,
            semanticVersion: args.version,
            rules: args.rules,
          },
        },
        ...args.run,
        results: args.results,
      },
    ],
  };
}
