// Package secretadapters fetches secrets from password managers the way
// Kamal's `kamal secrets fetch --adapter NAME` does: each adapter shells out
// to the vendor's own CLI (op, bw, bws, aws, gcloud, doppler, lpass,
// passbolt, enpass-cli, vault, pass, or a command of the user's), checks the
// login first, and returns name->value with the keys Kamal gives them. It
// also holds Kamal's command-line shape of `secrets fetch` and `secrets
// extract`, so both the `docker kamal secrets` command and `$(kamal secrets
// ...)` in a .kamal/secrets file run the same code.
//
// Errors name the adapter, the item and what went wrong; they never carry a
// value, a session token or a vendor CLI's stdout.
package secretadapters
