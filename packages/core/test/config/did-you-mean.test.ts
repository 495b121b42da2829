/** Issue 11 item 19: typos in keys and hook names get a "did you mean" with file:line. */
import { parseConfigText } from '@cpex/core';
import { describe, expect, it } from 'vitest';

describe('did you mean', () => {
  it('unknown top-level, settings, entry and condition keys: suggestion and file:line', () => {
    const cfg = parseConfigText(
      [
        'plugin_setings:',
        '  plugin_timeout: 5',
        'plugins:',
        '  - name: a',
        '    kind: k',
        '    hoks: [tool_pre_invoke]',
        '    conditions:',
        '      - tool: [x]',
        'plugin_dirs: []',
        'zzzzzz: 1',
        '',
      ].join('\n'),
      { file: 'g.yaml', env: {} },
    );
    expect(cfg.warnings).toEqual([
      'plugin_setings: unknown key, ignored (did you mean "plugin_settings"?) (g.yaml:1:1)',
      'zzzzzz: unknown key, ignored (g.yaml:10:1)',
      'plugins[0].hoks: unknown key, ignored (did you mean "hooks"?) (g.yaml:6:5)',
      'plugins[0].conditions[0].tool: unknown key, ignored (did you mean "tools"?) (g.yaml:8:9)',
    ]);
  });

  it('a hook name close to a built-in one is a warning with the suggestion and its line', () => {
    const cfg = parseConfigText(
      'plugins:\n  - name: a\n    kind: k\n    hooks: [tool_pre_invok, my_custom_hook, cmf.llm_inptu]\n',
      { file: 'g.yaml', env: {} },
    );
    expect(cfg.warnings).toEqual([
      'plugins[0].hooks[0]: "tool_pre_invok" is not a built-in hook (did you mean "tool_pre_invoke"?); it runs only if something invokes it (g.yaml:4:13)',
      'plugins[0].hooks[2]: "cmf.llm_inptu" is not a built-in hook (did you mean "cmf.llm_input"?); it runs only if something invokes it (g.yaml:4:45)',
    ]);
  });
});
