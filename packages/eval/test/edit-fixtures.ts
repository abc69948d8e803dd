// Editing tasks in the public layouts, written by the tests (the project ships no benchmark data):
// HumanEvalPack rows with every field of the dataset (Python and JavaScript), and CanItEdit rows.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** HumanEvalPack (bigcode/humanevalpack) rows: the buggy_solution fails, the canonical one passes. */
export const HUMANEVALPACK_ROWS = [
  {
    task_id: 'Python/0',
    prompt:
      'from typing import List\n\n\ndef below_zero(operations: List[int]) -> bool:\n    """ True if the running balance ever falls below zero.\n    >>> below_zero([1, 2, -4, 5])\n    True\n    """\n',
    declaration: 'from typing import List\n\n\ndef below_zero(operations: List[int]) -> bool:\n',
    canonical_solution:
      '    balance = 0\n\n    for op in operations:\n        balance += op\n        if balance < 0:\n            return True\n\n    return False\n',
    // missing logic: the balance check is gone (a fix must add a line)
    buggy_solution: '    balance = 0\n\n    for op in operations:\n        balance += op\n\n    return False\n',
    bug_type: 'missing logic',
    failure_symptoms: 'incorrect output',
    entry_point: 'below_zero',
    import: '',
    test_setup: '',
    test: "\n\nMETADATA = {\n    'author': 'jt',\n    'dataset': 'test'\n}\n\n\ndef check(below_zero):\n    assert below_zero([]) == False\n    assert below_zero([1, 2, -3, 1, 2, -3]) == False\n    assert below_zero([1, 2, -4, 5, 6]) == True\n    assert below_zero([1, -1, 2, -2, 5, -5, 4, -5]) == True\n\ncheck(below_zero)",
    example_test: 'def check(below_zero):\n    assert below_zero([1, 2, -4, 5]) == True\ncheck(below_zero)\n',
    signature: 'below_zero(operations: List[int]) -> bool',
    docstring: 'True if the running balance ever falls below zero.\n>>> below_zero([1, 2, -4, 5])\nTrue',
    instruction:
      'Write a Python function `below_zero(operations: List[int]) -> bool` to solve the following problem:\nTrue if the running balance ever falls below zero.',
  },
  {
    task_id: 'Python/1',
    prompt: 'def add(x: int, y: int):\n    """Add two numbers x and y\n    >>> add(2, 3)\n    5\n    """\n',
    declaration: 'def add(x: int, y: int):\n',
    canonical_solution: '    return x + y\n',
    // excess logic: a fix must remove something
    buggy_solution: '    return x + y + y + x\n',
    bug_type: 'excess logic',
    failure_symptoms: 'incorrect output',
    entry_point: 'add',
    import: '',
    test_setup: '',
    test: '\n\nMETADATA = {}\n\n\ndef check(add):\n    import random\n    assert add(0, 1) == 1\n    assert add(1, 0) == 1\n    assert add(2, 3) == 5\n    assert add(5, 7) == 12\n    assert add(7, 5) == 12\n\ncheck(add)',
    example_test: 'def check(add):\n    assert add(2, 3) == 5\ncheck(add)\n',
    signature: 'add(x: int, y: int)',
    docstring: 'Add two numbers x and y',
    instruction:
      'Write a Python function `add(x: int, y: int)` to solve the following problem:\nAdd two numbers x and y',
  },
];

export const HUMANEVALPACK_JS_ROWS = [
  {
    task_id: 'JavaScript/0',
    prompt: '/* Return the largest element.\n  >>> maxElement([1, 2, 3])\n  3\n  */\nconst maxElement = (l) => {\n',
    declaration: '\nconst maxElement = (l) => {\n',
    canonical_solution:
      '  let m = l[0];\n  for (const e of l) {\n    if (e > m) {\n      m = e;\n    }\n  }\n  return m;\n}\n\n',
    buggy_solution:
      '  let m = l[0];\n  for (const e of l) {\n    if (e < m) {\n      m = e;\n    }\n  }\n  return m;\n}\n\n',
    bug_type: 'operator misuse',
    failure_symptoms: 'incorrect output',
    entry_point: 'maxElement',
    import: '',
    test_setup: '',
    test: 'const testMaxElement = () => {\n  console.assert(maxElement([1, 2, 3]) === 3)\n  console.assert(maxElement([5, 3, -5, 2, -3, 3, 9, 0, 124, 1, -10]) === 124)\n}\n\ntestMaxElement()\n',
    example_test:
      'const testMaxElement = () => {\n  console.assert(maxElement([1, 2, 3]) === 3)\n}\ntestMaxElement()\n',
    signature: 'maxElement(l)',
    docstring: 'Return the largest element.',
    instruction:
      'Write a JavaScript function `const maxElement = (l)` to solve the following problem:\nReturn the largest element.',
  },
];

/** CanItEdit (nuprl/CanItEdit) rows: before, after, tests and the two instructions. */
export const CANITEDIT_ROWS = [
  {
    id: 1,
    name: 'stack_size',
    full_name: '1_stack_size',
    before:
      'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n',
    after:
      'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n\n    def size(self):\n        return len(self.items)\n',
    tests:
      '### START TESTS ###\nif True:  # pragma: no cover\n    s = Stack()\n    assert s.size() == 0\n    s.push(1)\n    s.push(2)\n    assert s.size() == 2\n    assert s.pop() == 2\n    assert s.size() == 1\n',
    instruction_descriptive: 'Add a method `size` to Stack that returns the number of items on the stack.',
    instruction_lazy: 'add a size method',
    taxonomy: { change_kind: 'adaptive', libraries: [], topic: 'Data Structures' },
  },
  {
    id: 2,
    name: 'mean_empty',
    full_name: '2_mean_empty',
    before: 'def mean(xs):\n    return sum(xs) / len(xs)\n',
    after: 'def mean(xs):\n    if not xs:\n        return 0.0\n    return sum(xs) / len(xs)\n',
    tests:
      '### START TESTS ###\nif True:  # pragma: no cover\n    assert mean([1, 2, 3]) == 2\n    assert mean([]) == 0.0\n    assert mean([5]) == 5\n',
    instruction_descriptive: 'Make `mean` return 0.0 for an empty list instead of raising ZeroDivisionError.',
    instruction_lazy: 'fix mean on empty lists',
    taxonomy: { change_kind: 'corrective', libraries: [], topic: 'Math' },
  },
];

const jsonl = (rows: readonly object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** Writes the fixture files into `dir`: humanevalpack.jsonl, humanevalpack-js.jsonl.gz, canitedit.jsonl.gz. */
export function writeEditFixtures(dir: string): { hep: string; hepJs: string; cie: string } {
  mkdirSync(dir, { recursive: true });
  const hep = path.join(dir, 'humanevalpack.jsonl');
  const hepJs = path.join(dir, 'humanevalpack-js.jsonl.gz');
  const cie = path.join(dir, 'canitedit.jsonl.gz');
  writeFileSync(hep, jsonl(HUMANEVALPACK_ROWS));
  writeFileSync(hepJs, gzipSync(jsonl(HUMANEVALPACK_JS_ROWS)));
  writeFileSync(cie, gzipSync(jsonl(CANITEDIT_ROWS)));
  return { hep, hepJs, cie };
}
