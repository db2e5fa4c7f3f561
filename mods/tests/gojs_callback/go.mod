module gojs_callback

go 1.24
