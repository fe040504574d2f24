"""Platform adapters: each translates one platform to core events and back."""
