"""dx: press agencies and their maturity assessments, SME programme providers, platforms and uptake

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dx_providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tax_code', sa.String(length=14), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('contact_email', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_providers')),
    sa.UniqueConstraint('tax_code', name=op.f('uq_dx_providers_tax_code'))
    )
    op.create_table('dx_press_agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('agency_type', sa.String(length=16), nullable=False),
    sa.Column('governing_body', sa.String(length=300), nullable=False),
    sa.Column('central', sa.Boolean(), nullable=False),
    sa.Column('province_code', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dx_press_agencies_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_press_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_dx_press_agencies_code'))
    )
    with op.batch_alter_table('dx_press_agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dx_press_agencies_province_code'), ['province_code'], unique=False)

    op.create_table('dx_press_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('framework_version', sa.Integer(), nullable=False),
    sa.Column('framework_digest', sa.String(length=64), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('self_total', sa.Float(), nullable=True),
    sa.Column('adjustments', sa.JSON(), nullable=False),
    sa.Column('return_reason', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('certificate_no', sa.String(length=32), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('certified_at', sa.DateTime(), nullable=True),
    sa.Column('certified_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['dx_press_agencies.id'], name=op.f('fk_dx_press_assessments_agency_id_dx_press_agencies')),
    sa.ForeignKeyConstraint(['certified_by_id'], ['users.id'], name=op.f('fk_dx_press_assessments_certified_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dx_press_assessments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_press_assessments')),
    sa.UniqueConstraint('agency_id', 'year', name=op.f('uq_dx_press_assessments_agency_id_year')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_dx_press_assessments_certificate_no'))
    )
    with op.batch_alter_table('dx_press_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dx_press_assessments_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dx_press_assessments_certified_at'), ['certified_at'], unique=False)

    op.create_table('dx_uptakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('interested_at', sa.DateTime(), nullable=True),
    sa.Column('trial_start', sa.Date(), nullable=True),
    sa.Column('trial_end', sa.Date(), nullable=True),
    sa.Column('using_since', sa.Date(), nullable=True),
    sa.Column('stopped_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['dx_assessments.id'], name=op.f('fk_dx_uptakes_assessment_id_dx_assessments')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['dx_enterprises.id'], name=op.f('fk_dx_uptakes_enterprise_id_dx_enterprises')),
    sa.ForeignKeyConstraint(['solution_id'], ['dx_solutions.id'], name=op.f('fk_dx_uptakes_solution_id_dx_solutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_uptakes')),
    sa.UniqueConstraint('enterprise_id', 'solution_id', name=op.f('uq_dx_uptakes_enterprise_id_solution_id'))
    )
    with op.batch_alter_table('dx_uptakes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dx_uptakes_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dx_uptakes_solution_id'), ['solution_id'], unique=False)

    with op.batch_alter_table('dx_enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employees', sa.Integer(), nullable=True))

    with op.batch_alter_table('dx_solutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        # Solutions already in the catalogue were entered by administrators: approved.
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=False, server_default='approved'))
        batch_op.add_column(sa.Column('platform_group', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('free_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('free_max_staff', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('price_after', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cost_support', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('review_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dx_solutions_provider_id'), ['provider_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_dx_solutions_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_dx_solutions_provider_id_dx_providers'), 'dx_providers', ['provider_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_ref', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('agency_ref')

    with op.batch_alter_table('dx_solutions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dx_solutions_provider_id_dx_providers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_dx_solutions_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dx_solutions_provider_id'))
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('review_reason')
        batch_op.drop_column('cost_support')
        batch_op.drop_column('price_after')
        batch_op.drop_column('free_max_staff')
        batch_op.drop_column('free_months')
        batch_op.drop_column('platform_group')
        batch_op.drop_column('status')
        batch_op.drop_column('provider_id')

    with op.batch_alter_table('dx_enterprises', schema=None) as batch_op:
        batch_op.drop_column('employees')

    with op.batch_alter_table('dx_uptakes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dx_uptakes_solution_id'))
        batch_op.drop_index(batch_op.f('ix_dx_uptakes_enterprise_id'))

    op.drop_table('dx_uptakes')
    with op.batch_alter_table('dx_press_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dx_press_assessments_certified_at'))
        batch_op.drop_index(batch_op.f('ix_dx_press_assessments_agency_id'))

    op.drop_table('dx_press_assessments')
    with op.batch_alter_table('dx_press_agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dx_press_agencies_province_code'))

    op.drop_table('dx_press_agencies')
    op.drop_table('dx_providers')
