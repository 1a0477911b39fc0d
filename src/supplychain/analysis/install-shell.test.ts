import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitShellCommand } from './install-shell.js';

describe('splitShellCommand', () => {
  it('splits at &&, ||, ;, | and & and records the separator', () => {
    const segs = splitShellCommand('a 1 && b || c; d | e & f');
    expect(segs.map((s) => [s.separator, s.words])).toEqual([
      [null, ['a', '1']],
      ['&&', ['b']],
      ['||', ['c']],
      [';', ['d']],
      ['|', ['e']],
      ['&', ['f']],
    ]);
  });

  it('keeps operators inside quotes and removes the quotes', () => {
    const segs = splitShellCommand(`node -e "try{require('./p')}catch(e){}" && echo 'a && b' x\\ y`);
    expect(segs.map((s) => s.words)).toEqual([
      ['node', '-e', "try{require('./p')}catch(e){}"],
      ['echo', 'a && b', 'x y'],
    ]);
    expect(segs.every((s) => !s.complex)).toBe(true);
  });

  it('handles escaped double quotes and adjacent quoted parts', () => {
    expect(splitShellCommand('echo "a\\"b"\'c\'d')[0]?.words).toEqual(['echo', 'a"bcd']);
  });

  it('records redirections and drops the file descriptor word', () => {
    const [seg] = splitShellCommand('echo hi > ~/.bashrc 2>&1');
    expect(seg?.words).toEqual(['echo', 'hi']);
    expect(seg?.redirects).toEqual([
      { op: '>', target: '~/.bashrc' },
      { op: '>&', target: '1' },
    ]);
  });

  it('marks command substitution, subshells and unclosed quotes complex', () => {
    expect(splitShellCommand('echo $(whoami)')[0]?.complex).toBe(true);
    expect(splitShellCommand('echo `id`')[0]?.complex).toBe(true);
    expect(splitShellCommand('echo "$(id)"')[0]?.complex).toBe(true);
    expect(splitShellCommand('(cd x && make)')[0]?.complex).toBe(true);
    expect(splitShellCommand('echo "open')[0]?.complex).toBe(true);
    expect(splitShellCommand("echo '$(id)'")[0]?.complex).toBe(false);
  });

  it('returns no segments for an empty command', () => {
    expect(splitShellCommand('  ')).toEqual([]);
  });

  it('round-trips any words quoted POSIX-style and joined by operators (property)', () => {
    const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.constantFrom(' && ', ' || ', '; ', ' | '),
        (commands, op) => {
          const text = commands.map((words) => words.map(quote).join(' ')).join(op);
          const segs = splitShellCommand(text);
          expect(segs.map((seg) => seg.words)).toEqual(commands);
          expect(segs.every((seg) => !seg.complex)).toBe(true);
        },
      ),
    );
  });
});
