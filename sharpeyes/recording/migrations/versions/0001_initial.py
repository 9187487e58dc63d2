"""recording store: covered and asked intervals, channel, recorder and disk state

Revision ID: 0001
Revises: (none)

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("recording_covered", "recording_asked"):
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("camera", sa.String(length=100), nullable=False),
            sa.Column("start", sa.Float(), nullable=False),
            sa.Column("end", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{name}_camera_start", name, ["camera", "start"])
    op.create_table(
        "recording_channels",
        sa.Column("camera", sa.String(length=100), nullable=False),
        sa.Column("recorder", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("oldest", sa.Float(), nullable=True),
        sa.Column("error", sa.String(length=20), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("camera"),
    )
    op.create_table(
        "recording_recorders",
        sa.Column("recorder", sa.String(length=100), nullable=False),
        sa.Column("dialect", sa.String(length=20), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("clock_offset", sa.Float(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("recorder"),
    )
    op.create_table(
        "recording_disks",
        sa.Column("recorder", sa.String(length=100), nullable=False),
        sa.Column("disk", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("raw", sa.String(length=40), nullable=False),
        sa.Column("capacity_bytes", sa.Float(), nullable=True),
        sa.Column("free_bytes", sa.Float(), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("recorder", "disk"),
    )


def downgrade() -> None:
    for name in ("recording_disks", "recording_recorders", "recording_channels", "recording_asked",
                 "recording_covered"):
        op.drop_table(name)
