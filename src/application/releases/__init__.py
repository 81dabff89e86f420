"""The releases context's use cases and services. The caller is identity's published
`Principal`; permissions are checked with `principal.require(...)`."""
