"""antispam: citizens' reports, do-not-call registry, flags, blocklist, appeals

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('antispam_dnc',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('joined_channel', sa.String(length=12), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.Column('left_channel', sa.String(length=12), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_dnc')),
    sa.UniqueConstraint('number', name=op.f('uq_antispam_dnc_number'))
    )
    with op.batch_alter_table('antispam_dnc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_antispam_dnc_listed'), ['listed'], unique=False)

    op.create_table('antispam_otps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_otps')),
    sa.UniqueConstraint('ref', name=op.f('uq_antispam_otps_ref'))
    )
    with op.batch_alter_table('antispam_otps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_antispam_otps_number'), ['number'], unique=False)

    op.create_table('antispam_traffic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('operator_code', sa.String(length=32), nullable=False),
    sa.Column('spam_sms', sa.Integer(), nullable=False),
    sa.Column('spam_calls', sa.Integer(), nullable=False),
    sa.Column('numbers', sa.Integer(), nullable=False),
    sa.Column('scan', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_traffic')),
    sa.UniqueConstraint('day', 'operator_code', name=op.f('uq_antispam_traffic_day_operator_code'))
    )
    op.create_table('antispam_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('operator_code', sa.String(length=32), nullable=True),
    sa.Column('scan', sa.String(length=120), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('sms_out', sa.Integer(), nullable=False),
    sa.Column('calls_out', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('flagged_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('blocked_at', sa.DateTime(), nullable=True),
    sa.Column('cleared_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_antispam_flags_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_flags'))
    )
    with op.batch_alter_table('antispam_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_antispam_flags_flagged_at'), ['flagged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_antispam_flags_number'), ['number'], unique=False)
        batch_op.create_index('ix_antispam_flags_operator_status', ['operator_code', 'status'], unique=False)

    op.create_table('antispam_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('reporter_number', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('spam_score', sa.Float(), nullable=True),
    sa.Column('evidence_filename', sa.String(length=255), nullable=True),
    sa.Column('evidence_media_type', sa.String(length=64), nullable=True),
    sa.Column('evidence_size', sa.Integer(), nullable=True),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
    sa.Column('evidence_path', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('operator_code', sa.String(length=32), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answer_action', sa.String(length=16), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('label', sa.String(length=8), nullable=True),
    sa.Column('labelled_by_id', sa.Integer(), nullable=True),
    sa.Column('gateway_id', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_antispam_reports_answered_by_id_users')),
    sa.ForeignKeyConstraint(['labelled_by_id'], ['users.id'], name=op.f('fk_antispam_reports_labelled_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_reports')),
    sa.UniqueConstraint('gateway_id', name=op.f('uq_antispam_reports_gateway_id')),
    sa.UniqueConstraint('receipt', name=op.f('uq_antispam_reports_receipt'))
    )
    with op.batch_alter_table('antispam_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_antispam_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_antispam_reports_operator_status', ['operator_code', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_antispam_reports_source'), ['source'], unique=False)

    op.create_table('antispam_blocklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('operator_code', sa.String(length=32), nullable=True),
    sa.Column('flag_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('unblocked_at', sa.DateTime(), nullable=True),
    sa.Column('unblock_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_antispam_blocklist_added_by_id_users')),
    sa.ForeignKeyConstraint(['flag_id'], ['antispam_flags.id'], name=op.f('fk_antispam_blocklist_flag_id_antispam_flags')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_blocklist'))
    )
    with op.batch_alter_table('antispam_blocklist', schema=None) as batch_op:
        batch_op.create_index('ix_antispam_blocklist_operator_number', ['operator_code', 'number'], unique=False)

    op.create_table('antispam_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Boolean(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['flag_id'], ['antispam_flags.id'], name=op.f('fk_antispam_surveys_flag_id_antispam_flags')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_surveys')),
    sa.UniqueConstraint('flag_id', 'recipient', name=op.f('uq_antispam_surveys_flag_id_recipient'))
    )
    with op.batch_alter_table('antispam_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_antispam_surveys_flag_id'), ['flag_id'], unique=False)

    op.create_table('antispam_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=16), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('operator_code', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['antispam_blocklist.id'], name=op.f('fk_antispam_appeals_block_id_antispam_blocklist')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_antispam_appeals_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_antispam_appeals')),
    sa.UniqueConstraint('receipt', name=op.f('uq_antispam_appeals_receipt'))
    )
    with op.batch_alter_table('antispam_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_antispam_appeals_block_id'), ['block_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_antispam_appeals_operator_code'), ['operator_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_antispam_appeals_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('antispam_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_antispam_appeals_status'))
        batch_op.drop_index(batch_op.f('ix_antispam_appeals_operator_code'))
        batch_op.drop_index(batch_op.f('ix_antispam_appeals_block_id'))

    op.drop_table('antispam_appeals')
    with op.batch_alter_table('antispam_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_antispam_surveys_flag_id'))

    op.drop_table('antispam_surveys')
    with op.batch_alter_table('antispam_blocklist', schema=None) as batch_op:
        batch_op.drop_index('ix_antispam_blocklist_operator_number')

    op.drop_table('antispam_blocklist')
    with op.batch_alter_table('antispam_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_antispam_reports_source'))
        batch_op.drop_index('ix_antispam_reports_operator_status')
        batch_op.drop_index(batch_op.f('ix_antispam_reports_created_at'))

    op.drop_table('antispam_reports')
    with op.batch_alter_table('antispam_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_antispam_flags_operator_status')
        batch_op.drop_index(batch_op.f('ix_antispam_flags_number'))
        batch_op.drop_index(batch_op.f('ix_antispam_flags_flagged_at'))

    op.drop_table('antispam_flags')
    op.drop_table('antispam_traffic')
    with op.batch_alter_table('antispam_otps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_antispam_otps_number'))

    op.drop_table('antispam_otps')
    with op.batch_alter_table('antispam_dnc', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_antispam_dnc_listed'))

    op.drop_table('antispam_dnc')
