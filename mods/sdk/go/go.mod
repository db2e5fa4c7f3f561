module wasgo-sdk

go 1.24
