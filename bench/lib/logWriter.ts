/**
 * The program benchmark 8 runs as an agent, and alone as its baseline: LINES lines of 100 bytes, as fast as its
 * stdout takes them. A module of its own, so that the benchmark can name it without running the server under test.
 */
export const LINES = 1_000_000

/** 1,000 blocks of 1,000 lines of 99 characters and a newline, honouring backpressure like any well-behaved writer. */
export const WRITER = `const block = ('x'.repeat(99) + '\\n').repeat(1000); let i = 0;
const write = () => { while (i < ${LINES / 1000}) { i++; if (!process.stdout.write(block)) return process.stdout.once('drain', write) } };
write()`
