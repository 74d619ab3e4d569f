"""Channels, prices per variant and channel, and publication of products per channel."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.currencies import from_minor, to_minor
from bizosaas.commerce.exceptions import InvalidPublicationWindow, SlugTaken
from bizosaas.commerce.models import Channel, Product, ProductPublication, Variant, VariantPrice
from bizosaas.commerce.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    PriceRead,
    PriceSet,
    PublicationRead,
    PublicationSet,
)
from bizosaas.commerce.service.catalog import found
from bizosaas.kit.tenancy import TenantScope, bind_tenant


def channel_read(channel: Channel) -> ChannelRead:
    return ChannelRead.model_validate(channel, from_attributes=True)


async def create_channel(
    session: AsyncSession, *, scope: TenantScope, data: ChannelCreate
) -> ChannelRead:
    await bind_tenant(session, scope)
    if await repository.slug_taken(session, Channel, scope=scope, slug=data.slug):
        raise SlugTaken(f"A channel has the slug {data.slug}.")
    channel = Channel(**data.model_dump())
    session.add(channel)
    await session.flush()
    return channel_read(channel)


async def update_channel(
    session: AsyncSession, *, scope: TenantScope, channel_id: uuid.UUID, data: ChannelUpdate
) -> ChannelRead:
    channel = await found(session, Channel, scope=scope, row_id=channel_id)
    if data.slug not in (None, channel.slug) and await repository.slug_taken(
        session, Channel, scope=scope, slug=data.slug, except_id=channel.id
    ):
        raise SlugTaken(f"A channel has the slug {data.slug}.")
    for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(channel, name, value)
    await session.flush()
    return channel_read(channel)


async def read_channel(
    session: AsyncSession, *, scope: TenantScope, channel_id: uuid.UUID
) -> ChannelRead:
    return channel_read(await found(session, Channel, scope=scope, row_id=channel_id))


async def list_channels(session: AsyncSession, *, scope: TenantScope) -> list[ChannelRead]:
    await bind_tenant(session, scope)
    rows = await repository.list_all(session, Channel, scope=scope, order_by=Channel.slug)
    return [channel_read(row) for row in rows]


async def set_price(
    session: AsyncSession,
    *,
    scope: TenantScope,
    variant_id: uuid.UUID,
    channel_id: uuid.UUID,
    data: PriceSet,
) -> PriceRead:
    """Set the variant's price in the channel, rounded (half up) to the currency's minor unit."""
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    channel = await found(session, Channel, scope=scope, row_id=channel_id)
    amount_minor = to_minor(data.amount, channel.currency)
    price = await repository.price_of(
        session, scope=scope, variant_id=variant.id, channel_id=channel.id
    )
    if price is None:
        price = VariantPrice(variant_id=variant.id, channel_id=channel.id, amount_minor=0)
        session.add(price)
    price.amount_minor = amount_minor
    price.is_available = data.is_available
    await session.flush()
    return PriceRead(
        channel_id=channel.id,
        currency=channel.currency,
        amount=from_minor(amount_minor, channel.currency),
        is_available=price.is_available,
    )


async def remove_price(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID, channel_id: uuid.UUID
) -> None:
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    channel = await found(session, Channel, scope=scope, row_id=channel_id)
    price = await repository.price_of(
        session, scope=scope, variant_id=variant.id, channel_id=channel.id
    )
    if price is not None:
        await session.delete(price)
        await session.flush()


async def publish(
    session: AsyncSession,
    *,
    scope: TenantScope,
    product_id: uuid.UUID,
    channel_id: uuid.UUID,
    data: PublicationSet,
) -> PublicationRead:
    product = await found(session, Product, scope=scope, row_id=product_id)
    channel = await found(session, Channel, scope=scope, row_id=channel_id)
    if data.published_from and data.published_until and data.published_until <= data.published_from:
        raise InvalidPublicationWindow("published_until must come after published_from.")
    publication = await repository.publication_of(
        session, scope=scope, product_id=product.id, channel_id=channel.id
    )
    if publication is None:
        publication = ProductPublication(product_id=product.id, channel_id=channel.id)
        session.add(publication)
    publication.is_published = data.is_published
    publication.published_from = data.published_from
    publication.published_until = data.published_until
    await session.flush()
    return PublicationRead.model_validate(publication, from_attributes=True)


def is_visible(publication: PublicationRead, *, now: datetime) -> bool:
    """Published, and `now` within the dates given (from inclusive, until exclusive)."""
    if not publication.is_published:
        return False
    if publication.published_from is not None and now < publication.published_from:
        return False
    return publication.published_until is None or now < publication.published_until
