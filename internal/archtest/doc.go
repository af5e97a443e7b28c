// Package archtest holds the tests that keep the module's layering: the
// contract is a leaf, the plugin links none of the host side and the
// sidecar none of the plugin side. It has no code of its own.
package archtest
