import { BenchTask } from '../src';

/** Small benchmark tasks written for the tests (HumanEval layout), in every supported language. */
export const PY_TASKS: BenchTask[] = [
  {
    taskId: 'Fix/sum_below',
    language: 'python',
    prompt: 'def sum_below(xs, limit):\n    """Sum of the elements of xs that are strictly below limit."""\n',
    canonicalSolution:
      '    total = 0\n    for x in xs:\n        if x < limit:\n            total += x\n    return total\n',
    test: 'def check(candidate):\n    assert candidate([1, 2, 3, 4], 3) == 3\n    assert candidate([5, 1, 5], 5) == 1\n    assert candidate([], 1) == 0\n    assert candidate([2, 2], 3) == 4\n',
    entryPoint: 'sum_below',
  },
  {
    taskId: 'Fix/pairwise_diff',
    language: 'python',
    prompt:
      'def pairwise_diff(xs):\n    """Differences of neighbouring elements: [xs[1] - xs[0], xs[2] - xs[1], ...]."""\n',
    canonicalSolution:
      '    out = []\n    for i in range(len(xs) - 1):\n        step = xs[i + 1] - xs[i]\n        out.append(step)\n    return out\n',
    test: 'def check(candidate):\n    assert candidate([1, 4, 9, 16]) == [3, 5, 7]\n    assert candidate([5]) == []\n    assert candidate([3, 1]) == [-2]\n',
    entryPoint: 'pairwise_diff',
  },
  {
    taskId: 'Fix/in_range',
    language: 'python',
    prompt: 'def in_range(x, lo, hi):\n    """True when lo <= x <= hi and x is even."""\n',
    canonicalSolution: '    ok = lo <= x and x <= hi\n    even = x % 2 == 0\n    return ok and even\n',
    test: 'def check(candidate):\n    assert candidate(2, 2, 4) is True\n    assert candidate(4, 2, 4) is True\n    assert candidate(3, 2, 4) is False\n    assert candidate(6, 2, 4) is False\n    assert candidate(0, 1, 4) is False\n',
    entryPoint: 'in_range',
  },
];

export const JS_TASKS: BenchTask[] = [
  {
    // HumanEval-X style: console.assert must fail the program
    taskId: 'JsFix/double',
    language: 'javascript',
    prompt: '/* Double every element. */\nconst double = (xs) => {\n',
    canonicalSolution: '  return xs.map((x) => 2 * x);\n}\n',
    test: 'const testDouble = () => {\n  console.assert(JSON.stringify(double([1, 2])) === JSON.stringify([2, 4]))\n}\ntestDouble()\n',
    entryPoint: 'double',
  },
  {
    // MBXP style: requires lodash through NODE_PATH
    taskId: 'JsFix/uniq',
    language: 'javascript',
    prompt: '/** Distinct elements in first-seen order. */\nfunction uniq(xs) {\n',
    canonicalSolution: '  return [...new Set(xs)];\n}',
    test: '\nconst _ = require("lodash")\nif (!_.isEqual(uniq([1, 1, 2, 1, 3]), [1, 2, 3])) { throw "Error at 1th assert statement" }\n',
    entryPoint: 'uniq',
  },
];

export const TS_TASKS: BenchTask[] = [
  {
    taskId: 'TsFix/longest',
    language: 'typescript',
    prompt: '/** Length of the longest string. */\nconst longest = function (xs: Array<string>): number {\n',
    canonicalSolution:
      '  let best: number = 0;\n  for (const s of xs) best = Math.max(best, s.length);\n  return best;\n}',
    test: "\nimport * as assert from 'assert'\nassert.deepEqual(longest(['a', 'abc', 'ab']), 3, 'case 0');\nassert.deepEqual(longest([]), 0, 'case 1');\n",
    entryPoint: 'longest',
  },
];
