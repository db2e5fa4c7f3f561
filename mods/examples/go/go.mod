module archivist

go 1.24

require wasgo-sdk v0.0.0

// The SDK lives in this repository; in your own copy, point this at your copy of mods/sdk/go.
replace wasgo-sdk => ../../sdk/go
