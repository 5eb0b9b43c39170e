"""tipline: the moves of reports between cases, read by every process's claim index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tipline_report_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['tipline_cases.id'], name=op.f('fk_tipline_report_moves_case_id_tipline_cases')),
    sa.ForeignKeyConstraint(['report_id'], ['tipline_reports.id'], name=op.f('fk_tipline_report_moves_report_id_tipline_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tipline_report_moves'))
    )
    with op.batch_alter_table('tipline_report_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tipline_report_moves_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tipline_report_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tipline_report_moves_report_id'))
    op.drop_table('tipline_report_moves')
