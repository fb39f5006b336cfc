"""Services: the logic between the web layer and the database. No Litestar imports here."""
