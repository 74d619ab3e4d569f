"""The Brain: the one entry point of BizOSaaS (`/api/brain/<service>/...`)."""
