/** The server's configuration: one schema for flags, environment, --help and the docs. */
export { optionSpecs, type Config, type OptionName, type OptionSpec } from './schema.ts';
export { loadConfig, helpText, ConfigError, type LoadResult } from './load.ts';
