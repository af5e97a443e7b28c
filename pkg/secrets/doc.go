// Package secrets reads Kamal's secrets files: dotenv syntax with $VAR,
// ${VAR} and $(command) substitution, as Kamal (Ruby dotenv plus Kamal's
// inline command substitution) reads them.
//
// `$(kamal secrets fetch|extract ...)` (or bin/kamal) runs our own
// implementation of Kamal's secrets helpers in process (kamal.go), so a
// Kamal-shaped file works without Ruby Kamal installed.
//
// Parsing is pure: commands are run through Options.Run and Options.Inline,
// so the parser can be fuzzed and unit-tested without a shell.
package secrets
