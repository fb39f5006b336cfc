"""The Nuanxin server: a thin Litestar layer over services (`server.services`)."""
