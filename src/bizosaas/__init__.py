"""BizOSaaS: the open platform a small business runs its whole online business on."""

__version__ = "0.1.0"
