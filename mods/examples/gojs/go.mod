module announcer

go 1.21

require wasgo-gojs v0.0.0

// The SDK lives in this repository; in your own copy, point this at your copy of mods/sdk/gojs.
replace wasgo-gojs => ../../sdk/gojs
