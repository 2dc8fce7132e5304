/**
 * The general help comes from a static table (help-text.ts), so that `--help`
 * loads no command module; it must say what each command's module says.
 */
import { COMMAND_SUMMARIES } from '../../src/help-text';
import { loadCommands } from '../../src/main';

test('the help table lists every command with the usage and summary of its module, in order', () => {
  expect(COMMAND_SUMMARIES).toEqual(loadCommands().map(({ name, usage, summary }) => ({ name, usage, summary })));
});
