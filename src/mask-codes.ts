/** The values of a wdcd mask (the detection contract): 0 clear, 1 cloud, 255 no data. */
export const CLEAR = 0;
export const CLOUD = 1;
export const NODATA = 255;
