/**
 * Module hook for scripts/partykit/dev.mjs: edits partykit's CLI bundle as it loads so that
 * nothing listens beyond loopback, no inspector runs by default and `.env.local` is not read.
 * Every edit must match exactly once; otherwise loading fails with the edit's name.
 */
let target;
let inspector = false;

export function initialize(data) {
  target = data.target;
  inspector = data.inspector === true;
}

/** [what it is for, text in partykit 0.0.115, replacement] */
function edits() {
  const list = [
    [
      "worker runtime and Miniflare helper on loopback",
      'host: "0.0.0.0",',
      'host: "127.0.0.1",',
    ],
    [
      "rooms get only the vars they are given, not .env.local",
      "{ readEnvLocal: true, withEnv: options.withEnv }",
      "{ readEnvLocal: false, withEnv: options.withEnv }",
    ],
    [
      "inspector proxy (when enabled) on loopback",
      "server.listen(props.port);",
      'server.listen(props.port, "127.0.0.1");',
    ],
  ];
  if (!inspector) {
    list.push(
      ["no inspector proxy on 9229", "props.enableInspector ?? true", "props.enableInspector ?? false"],
      ["no workerd inspector", "      inspectorPort: portForRuntimeInspector,", "      inspectorPort: void 0,"],
      [
        "no lookup of the absent workerd inspector",
        "const jsonUrl = `http://127.0.0.1:${portForRuntimeInspector}/json`;",
        "return;",
      ],
    );
  }
  return list;
}

export function applyEdits(source) {
  let text = source;
  for (const [what, from, to] of edits()) {
    const count = text.split(from).length - 1;
    if (count !== 1) {
      throw new Error(
        `scripts/partykit/hooks.mjs: expected "${from}" once in partykit's CLI (${what}), found it ${count} times; ` +
          "partykit changed: review the edits before running it",
      );
    }
    text = text.replace(from, () => to);
  }
  return text;
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (url !== target) return result;
  const source = typeof result.source === "string" ? result.source : Buffer.from(result.source).toString("utf8");
  return { ...result, source: applyEdits(source) };
}
