/**
 * Builds the CLI bundle once before the tests, so that tests which run the real `orchestrate` binary run the
 * code as it is now.
 */
import { buildCli } from "../scripts/build.ts"

export const setup = () => buildCli()
