"""Clearinghouse vendor adapters, one per `clearinghouse.models.Vendor` value.

`adapter_class(vendor)` is the way in: it knows all five adapters. `ADAPTERS` holds the ones
imported with this package; Change Healthcare's and Availity's are imported on first use.
"""

from __future__ import annotations

import importlib

from clearinghouse.vendors.base import AdapterState, VendorAdapter, VendorSettings
from clearinghouse.vendors.claim_md import ClaimMdAdapter
from clearinghouse.vendors.sandbox import SandboxAdapter
from clearinghouse.vendors.waystar import WaystarAdapter

ADAPTERS: dict[str, type[VendorAdapter]] = {
    "waystar": WaystarAdapter,
    "claim_md": ClaimMdAdapter,
    "sandbox": SandboxAdapter,
}

# vendor -> (module, class) of the adapters imported on first use
LAZY_ADAPTERS: dict[str, tuple[str, str]] = {
    "change_healthcare": ("clearinghouse.vendors.change_healthcare", "ChangeHealthcareAdapter"),
    "availity": ("clearinghouse.vendors.availity", "AvailityAdapter"),
}


def adapter_class(vendor: str) -> type[VendorAdapter]:
    if vendor in ADAPTERS:
        return ADAPTERS[vendor]
    if vendor in LAZY_ADAPTERS:
        module, name = LAZY_ADAPTERS[vendor]
        return getattr(importlib.import_module(module), name)
    raise ValueError(f"no adapter for the clearinghouse vendor {vendor!r}")


def adapter_for(settings: VendorSettings, state: AdapterState) -> VendorAdapter:
    """The adapter for `settings.vendor`, ready to call."""
    return adapter_class(settings.vendor)(settings, state)
