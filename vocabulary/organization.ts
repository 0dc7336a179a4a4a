/** Place in the county medical community: county → township → village; insurers stand outside it. */
export enum OrganizationLevel {
  COUNTY = 'COUNTY',
  TOWNSHIP = 'TOWNSHIP',
  VILLAGE = 'VILLAGE',
  EXTERNAL = 'EXTERNAL',
}

export enum OrganizationType {
  MEDICAL_COMMUNITY_LEAD = 'MEDICAL_COMMUNITY_LEAD',
  COUNTY_HOSPITAL = 'COUNTY_HOSPITAL',
  TOWNSHIP_HEALTH_CENTRE = 'TOWNSHIP_HEALTH_CENTRE',
  COMMUNITY_HEALTH_CENTRE = 'COMMUNITY_HEALTH_CENTRE',
  VILLAGE_CLINIC = 'VILLAGE_CLINIC',
  INSURER = 'INSURER',
  OTHER = 'OTHER',
}

/** Management grid (网格) kind. */
export enum GridKind {
  URBAN_BLOCK = 'URBAN_BLOCK',
  VILLAGE = 'VILLAGE',
  SPECIAL_GROUP = 'SPECIAL_GROUP',
}
