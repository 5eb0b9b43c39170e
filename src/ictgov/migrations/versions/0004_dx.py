"""dx: enterprises, assessments, solutions catalogue, provincial index results

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dx_solutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('price_min', sa.Integer(), nullable=True),
    sa.Column('price_max', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_solutions'))
    )
    op.create_table('dx_dti_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('framework_version', sa.Integer(), nullable=False),
    sa.Column('framework_digest', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('years', sa.JSON(), nullable=False),
    sa.Column('uncertainty', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dx_dti_uploads_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_dti_uploads'))
    )
    op.create_table('dx_enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tax_code', sa.String(length=14), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('size_class', sa.String(length=16), nullable=False),
    sa.Column('province_code', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dx_enterprises_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_enterprises')),
    sa.UniqueConstraint('tax_code', name=op.f('uq_dx_enterprises_tax_code'))
    )
    with op.batch_alter_table('dx_enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dx_enterprises_province_code'), ['province_code'], unique=False)

    op.create_table('dx_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('adopted_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dx_adoptions_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['dx_enterprises.id'], name=op.f('fk_dx_adoptions_enterprise_id_dx_enterprises')),
    sa.ForeignKeyConstraint(['solution_id'], ['dx_solutions.id'], name=op.f('fk_dx_adoptions_solution_id_dx_solutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_adoptions')),
    sa.UniqueConstraint('enterprise_id', 'solution_id', name=op.f('uq_dx_adoptions_enterprise_id_solution_id'))
    )
    op.create_table('dx_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('framework_version', sa.Integer(), nullable=False),
    sa.Column('framework_digest', sa.String(length=64), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dx_assessments_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['dx_enterprises.id'], name=op.f('fk_dx_assessments_enterprise_id_dx_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_assessments'))
    )
    with op.batch_alter_table('dx_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_dx_assessments_enterprise_status', ['enterprise_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dx_assessments_submitted_at'), ['submitted_at'], unique=False)

    op.create_table('dx_dti_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('framework_version', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=16), nullable=False),
    sa.Column('area_name', sa.String(length=200), nullable=False),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('index', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('rank_low', sa.Integer(), nullable=True),
    sa.Column('rank_high', sa.Integer(), nullable=True),
    sa.Column('previous_index', sa.Float(), nullable=True),
    sa.Column('change', sa.Float(), nullable=True),
    sa.Column('rank_change', sa.Integer(), nullable=True),
    sa.Column('published', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['upload_id'], ['dx_dti_uploads.id'], name=op.f('fk_dx_dti_results_upload_id_dx_dti_uploads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dx_dti_results')),
    sa.UniqueConstraint('framework_id', 'year', 'area_code', name=op.f('uq_dx_dti_results_framework_id_year_area_code'))
    )
    with op.batch_alter_table('dx_dti_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dx_dti_results_upload_id'), ['upload_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dx_dti_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dx_dti_results_upload_id'))

    op.drop_table('dx_dti_results')
    with op.batch_alter_table('dx_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dx_assessments_submitted_at'))
        batch_op.drop_index('ix_dx_assessments_enterprise_status')

    op.drop_table('dx_assessments')
    op.drop_table('dx_adoptions')
    with op.batch_alter_table('dx_enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dx_enterprises_province_code'))

    op.drop_table('dx_enterprises')
    op.drop_table('dx_dti_uploads')
    op.drop_table('dx_solutions')
