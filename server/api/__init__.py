"""The JSON API used by phones: enrolment and sync."""
