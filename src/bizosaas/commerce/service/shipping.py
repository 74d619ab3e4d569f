"""Shipping zones and methods per channel, and each channel's tax settings."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository_sales as sales
from bizosaas.commerce.currencies import from_minor, to_minor
from bizosaas.commerce.exceptions import CommerceNotFound
from bizosaas.commerce.models import Channel, ShippingMethod, ShippingZone, TaxConfig
from bizosaas.commerce.schemas_sales import (
    ShippingMethodCreate,
    ShippingMethodRead,
    ShippingZoneCreate,
    ShippingZoneRead,
    TaxConfigRead,
    TaxConfigSet,
)
from bizosaas.commerce.service.catalog import found
from bizosaas.commerce.service.pricing import BASIS_POINTS
from bizosaas.kit.tenancy import TenantScope, bind_tenant


def to_basis_points(percent: Decimal) -> int:
    """A percentage as basis points, rounded half up (7.555 % -> 756)."""
    return int((percent * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_basis_points(rate_bp: int) -> Decimal:
    return (Decimal(rate_bp) * 100 / BASIS_POINTS).quantize(Decimal("0.01"))


def method_read(method: ShippingMethod, currency: str) -> ShippingMethodRead:
    return ShippingMethodRead(
        id=method.id,
        zone_id=method.zone_id,
        name=method.name,
        currency=currency,
        price=from_minor(method.price_minor, currency),
        free_over=None
        if method.free_over_minor is None
        else from_minor(method.free_over_minor, currency),
        min_weight_grams=method.min_weight_grams,
        max_weight_grams=method.max_weight_grams,
    )


async def _zone(session: AsyncSession, scope: TenantScope, zone_id: uuid.UUID) -> ShippingZone:
    await bind_tenant(session, scope)
    zone = await sales.shipping_zone(session, scope=scope, zone_id=zone_id)
    if zone is None:
        raise CommerceNotFound(f"No shipping zone {zone_id} in this store.")
    return zone


async def _zone_read(
    session: AsyncSession, scope: TenantScope, zone: ShippingZone, currency: str
) -> ShippingZoneRead:
    methods = await sales.methods_of_zones(session, scope=scope, zone_ids=[zone.id])
    return ShippingZoneRead(
        id=zone.id,
        channel_id=zone.channel_id,
        name=zone.name,
        countries=list(zone.countries),
        methods=[method_read(method, currency) for method in methods],
    )


async def create_zone(
    session: AsyncSession, *, scope: TenantScope, data: ShippingZoneCreate
) -> ShippingZoneRead:
    channel = await found(session, Channel, scope=scope, row_id=data.channel_id)
    zone = ShippingZone(channel_id=channel.id, name=data.name, countries=data.countries)
    session.add(zone)
    await session.flush()
    return await _zone_read(session, scope, zone, channel.currency)


async def list_zones(session: AsyncSession, *, scope: TenantScope) -> list[ShippingZoneRead]:
    await bind_tenant(session, scope)
    zones = await sales.zones_of_channel(session, scope=scope)
    channels = {
        zone.channel_id: await found(session, Channel, scope=scope, row_id=zone.channel_id)
        for zone in zones
    }
    return [
        await _zone_read(session, scope, zone, channels[zone.channel_id].currency) for zone in zones
    ]


async def read_zone(
    session: AsyncSession, *, scope: TenantScope, zone_id: uuid.UUID
) -> ShippingZoneRead:
    zone = await _zone(session, scope, zone_id)
    channel = await found(session, Channel, scope=scope, row_id=zone.channel_id)
    return await _zone_read(session, scope, zone, channel.currency)


async def delete_zone(session: AsyncSession, *, scope: TenantScope, zone_id: uuid.UUID) -> None:
    await session.delete(await _zone(session, scope, zone_id))
    await session.flush()


async def add_method(
    session: AsyncSession, *, scope: TenantScope, zone_id: uuid.UUID, data: ShippingMethodCreate
) -> ShippingMethodRead:
    zone = await _zone(session, scope, zone_id)
    channel = await found(session, Channel, scope=scope, row_id=zone.channel_id)
    method = ShippingMethod(
        zone_id=zone.id,
        name=data.name,
        price_minor=to_minor(data.price, channel.currency),
        free_over_minor=None
        if data.free_over is None
        else to_minor(data.free_over, channel.currency),
        min_weight_grams=data.min_weight_grams,
        max_weight_grams=data.max_weight_grams,
    )
    session.add(method)
    await session.flush()
    return method_read(method, channel.currency)


async def delete_method(session: AsyncSession, *, scope: TenantScope, method_id: uuid.UUID) -> None:
    await bind_tenant(session, scope)
    row = await sales.shipping_method(session, scope=scope, method_id=method_id)
    if row is None:
        raise CommerceNotFound(f"No shipping method {method_id} in this store.")
    await session.delete(row[0])
    await session.flush()


def tax_read(config: TaxConfig) -> TaxConfigRead:
    return TaxConfigRead(
        channel_id=config.channel_id,
        prices_include_tax=config.prices_include_tax,
        default_rate=from_basis_points(config.default_rate_bp),
        country_rates={
            country: from_basis_points(rate) for country, rate in config.country_rates_bp.items()
        },
    )


async def set_tax(
    session: AsyncSession, *, scope: TenantScope, channel_id: uuid.UUID, data: TaxConfigSet
) -> TaxConfigRead:
    channel = await found(session, Channel, scope=scope, row_id=channel_id)
    config = await sales.tax_config(session, scope=scope, channel_id=channel.id)
    if config is None:
        config = TaxConfig(channel_id=channel.id)
        session.add(config)
    config.prices_include_tax = data.prices_include_tax
    config.default_rate_bp = to_basis_points(data.default_rate)
    config.country_rates_bp = {
        country: to_basis_points(rate) for country, rate in data.country_rates.items()
    }
    await session.flush()
    return tax_read(config)


async def read_tax(
    session: AsyncSession, *, scope: TenantScope, channel_id: uuid.UUID
) -> TaxConfigRead:
    """The channel's tax settings; a channel never set up charges no tax on gross prices."""
    channel = await found(session, Channel, scope=scope, row_id=channel_id)
    config = await sales.tax_config(session, scope=scope, channel_id=channel.id)
    if config is None:
        return TaxConfigRead(channel_id=channel.id, prices_include_tax=True)
    return tax_read(config)
