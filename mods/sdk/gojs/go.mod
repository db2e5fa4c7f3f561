module wasgo-gojs

go 1.21
