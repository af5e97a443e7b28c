// Package secrets reads Kamal's secrets files: dotenv syntax with $VAR,
// ${VAR} and $(command) substitution, as Kamal (Ruby dotenv plus Kamal's
// inline command substitution) reads them.
//
// Parsing is pure: commands are run through Options.Run, so the parser can be
// fuzzed and unit-tested without a shell.
package secrets
