// Test inputs per family: an edge case (empty list, empty string, zero) and random ones, as Python
// argument-tuple literals. Outputs are not computed here: the reference runs in the sandbox (oracle.ts).
import type { Family } from './primitives';
import type { TaskRng } from './rng';

const WORDS = [
  'apple',
  'banana',
  'cat',
  'dog',
  'level',
  'noon',
  'sun',
  'tree',
  'radar',
  'Bob',
  'Anna',
  'hello',
  'world',
  'code',
  'data',
  'go',
  'a',
  'is',
  'it',
  'map',
  'list',
  'key',
  'Zoo',
  'kayak',
  '42',
  '7',
  'abc',
  'eye',
  'Python',
  'stop',
  'pop',
  'moon',
  'star',
  'red',
  'blue',
  'green',
  'sea',
  'Tom',
  'Lisa',
  'mom',
  'dad',
  '2024',
  'test',
  'deed',
  'bird',
  'fish',
  'rose',
  'Mars',
  'open',
  'set',
  'time',
  'idea',
  'ice',
  'egg',
  'iris',
  'orange',
  'pear',
  'tin',
];

const pyStr = (s: string) => `'${s}'`;

function intList(rng: TaskRng): number[] {
  const n = rng.range(2, 7);
  return Array.from({ length: n }, () => rng.range(-9, 19));
}

function sentence(rng: TaskRng, maxWords: number): string {
  const n = rng.range(1, maxWords);
  return Array.from({ length: n }, () => rng.pick(WORDS)).join(' ');
}

/** `count` single-argument literals: the first is the family's edge case, the rest random (duplicates removed). */
export function drawInputs(family: Family, rng: TaskRng, count = 12): string[] {
  const out = new Set<string>();
  if (family === 'ints') {
    out.add('[]');
    out.add(`[${rng.range(-9, 19)}]`);
    while (out.size < count) out.add(`[${intList(rng).join(', ')}]`);
  } else if (family === 'words') {
    out.add(`''`);
    while (out.size < count) out.add(pyStr(sentence(rng, 6)));
  } else if (family === 'chars') {
    out.add(`''`);
    while (out.size < count) out.add(pyStr(sentence(rng, 3)));
  } else {
    out.add('0');
    while (out.size < count) out.add(String(rng.range(-12, 30)));
  }
  return [...out];
}
