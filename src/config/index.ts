/** The server's configuration: one schema for flags, environment, --help and the docs. */
export { optionSpecs, type Config, type OptionName, type OptionSpec } from './schema.ts';
export { loadConfig, loadConfigWithFile, helpText, type ConfigFile, type LoadResult } from './load.ts';
export { ConfigError } from './error.ts';
export { defaultNamespaces, namespaceOptionSpecs, type NamespaceConfig, type Namespaces } from './namespaces.ts';
